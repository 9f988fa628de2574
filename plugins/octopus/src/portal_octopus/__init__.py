"""portal's Octopus Energy plugin (api.octopus.energy, a personal API key)."""
