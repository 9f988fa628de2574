"""portal's first-party telco plugin (TM Forum Open APIs: TMF629, TMF637, TMF678, TMF635)."""
