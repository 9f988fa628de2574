"""ZIP archives through ``portal import`` (portal.archives): hostile ones are refused before
anything is read or stored, and every error names the member (and its line)."""

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal import archives
from portal.app import Portal
from portal.archives import Archive, member_errors
from portal.filereaders import BadFile
from portal.importing import import_file
from portal.record import Purchase

ORDERS = Path(__file__).parent / "data" / "amazon" / "Retail.OrderHistory.1.csv"
GOOD = "Retail.OrderHistory.1/Retail.OrderHistory.1.csv"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Portal]:
    with Portal.open(home=tmp_path / "home") as portal:
        yield portal


def make_zip(
    path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def nothing_stored(portal: Portal) -> bool:
    return not list(portal.store.rows(Purchase, "amazon"))


@pytest.mark.parametrize(
    "name", ["../evil.csv", "/etc/passwd", "a/../../b.csv", "C:\\Windows\\x.csv", "a\\..\\..\\b"]
)
def test_a_member_name_that_climbs_out_refuses_the_archive(
    app: Portal, tmp_path: Path, name: str
) -> None:
    path = make_zip(tmp_path / "x.zip", {GOOD: ORDERS.read_bytes(), name: b"x"})
    with pytest.raises(BadFile, match="names a place outside the archive's folder"):
        import_file(app, path)
    assert nothing_stored(app)


def test_a_zip_bomb_member_is_refused_by_its_ratio(app: Portal, tmp_path: Path) -> None:
    bomb = ORDERS.read_bytes() + b"\r\n" * (4 * 1024 * 1024)  # blank lines: 4 MB from ~4 kB
    path = make_zip(tmp_path / "bomb.zip", {GOOD: bomb})
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert f"member {GOOD}: expands" in str(error.value) and "zip bomb" in str(error.value)
    assert nothing_stored(app)


def test_a_member_larger_than_portal_reads_is_refused(
    app: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MAX_MEMBER_BYTES", 1000)
    path = make_zip(tmp_path / "big.zip", {GOOD: ORDERS.read_bytes()}, zipfile.ZIP_STORED)
    with pytest.raises(BadFile, match="uncompressed, more than portal reads"):
        import_file(app, path)


def test_what_is_read_from_all_members_together_is_bounded(
    app: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ORDERS.read_bytes()
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 3 * len(data))
    members = {f"Retail.OrderHistory.{n}/Retail.OrderHistory.{n}.csv": data for n in range(1, 4)}
    path = make_zip(tmp_path / "many.zip", members)
    with pytest.raises(BadFile, match="takes what is read from the archive past"):
        import_file(app, path)
    assert nothing_stored(app)


def test_an_archive_declaring_too_many_members_is_refused_before_its_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_zip(tmp_path / "x.zip", {f"{n}.csv": b"a" for n in range(5)})
    monkeypatch.setattr(archives, "MAX_MEMBERS", 4)
    parsed = []
    monkeypatch.setattr(archives.zipfile, "ZipFile", lambda *a: parsed.append(a))
    with pytest.raises(BadFile, match="holds 5 files, more than the 4 portal reads"):
        Archive(path)
    assert parsed == []  # refused from the end record alone


def test_a_forged_directory_size_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "x.zip", {"a.csv": b"a"})
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = struct.pack("<I", 0x7FFFFFFF)
    path.write_bytes(bytes(data))
    with pytest.raises(BadFile, match="has a directory of"):
        Archive(path)


def test_an_encrypted_member_is_refused_naming_it(app: Portal, tmp_path: Path) -> None:
    path = make_zip(tmp_path / "x.zip", {GOOD: ORDERS.read_bytes()})
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag in the local header and the directory entry.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(BadFile, match=f"member {GOOD}: is encrypted"):
        import_file(app, path)


def test_a_damaged_member_is_refused_naming_it(app: Portal, tmp_path: Path) -> None:
    path = make_zip(tmp_path / "x.zip", {GOOD: ORDERS.read_bytes()})
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x03\x04") + 30 + len(GOOD)
    data[start + 200 : start + 260] = b"\x00" * 60  # inside the deflated data
    path.write_bytes(bytes(data))
    with pytest.raises(BadFile, match=f"member {GOOD}"):
        import_file(app, path)
    assert nothing_stored(app)


def test_something_that_only_starts_like_a_zip_is_refused(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(BadFile, match="is not a readable ZIP archive"):
        import_file(app, path)


def test_importers_that_read_no_archives_are_not_offered_one(app: Portal, tmp_path: Path) -> None:
    midata = Path(__file__).parent / "data" / "midata-current-account.csv"
    path = make_zip(tmp_path / "bank.zip", {"midata.csv": midata.read_bytes()})
    with pytest.raises(Exception, match="no installed importer reads this kind of ZIP archive"):
        import_file(app, path)


def test_member_errors_name_the_member_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with pytest.raises(BadFile) as error, member_errors(path, "a/\x1b[2Jb.csv"):
        raise BadFile(path, "line 7", "column 'X': bad")
    assert str(error.value).startswith("x.zip, member a/\\x1b[2Jb.csv, line 7: column 'X': bad")


def test_members_are_read_as_streams_in_the_encodings_files_have(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "x.zip", {"a.csv": "Caf\u00e9,\u00a3\r\n".encode("cp1252")})
    with Archive(path) as archive:
        [member] = archive.members
        with archive.open_text(member) as text:
            assert text.read() == "Caf\u00e9,\u00a3\r\n"
    assert archives.unsafe_name("ok/fine.csv") is False


def test_a_large_member_the_importer_does_not_read_does_not_stop_the_archive(
    app: Portal, tmp_path: Path
) -> None:
    logs = b"timestamp,event\r\n" + b"2024-01-01T00:00:00Z,click\r\n" * 200_000  # ~5 MB, >200x
    path = make_zip(tmp_path / "all.zip", {GOOD: ORDERS.read_bytes(), "Search-Data.csv": logs})
    result = import_file(app, path)
    assert result.records == {"purchases": 4}
    assert any("1 other files were not read" in note for note in result.notes)
