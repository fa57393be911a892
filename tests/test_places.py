"""The gazetteer file, and making it from the ONS Index of Place Names."""

from datetime import date

import pytest

from ivr.places import import_ipn, read_gazetteer

IPN = """placeid,place23cd,placesort,place23nm,splitind,descnm,ctyhistnm,lad23cd,lad23nm,ctry23nm
1,IPN0001,LOFTUS,Loftus,0,LOC,Yorkshire,E06000003,Redcar and Cleveland,England
2,IPN0002,PETERLEE,Peterlee,0,LOC,Durham,E06000047,County Durham,England
3,IPN0003,SUNDERLAND,Sunderland,0,LOC,Durham,E08000024,Sunderland,England
4,IPN0004,PETERLEE,Peterlee,1,LOC,Durham,E06000047,County Durham,England
"""


def test_the_ipn_is_cut_to_our_council_areas_with_its_source_and_counts(tmp_path):
    source, out = tmp_path / "IPN_GB_2023.csv", tmp_path / "places.tsv"
    source.write_text(IPN, encoding="latin-1")
    counts = import_ipn(source, ["County Durham", "Redcar and Cleveland"], out, date(2026, 12, 3))
    assert counts == {"County Durham": 1, "Redcar and Cleveland": 1}  # Peterlee once; not Sunderland
    assert read_gazetteer(out) == [("Peterlee", "County Durham"), ("Loftus", "Redcar and Cleveland")]
    header = out.read_text().split("\nPeterlee")[0]
    assert "ONS Index of Place Names (IPN_GB_2023.csv), imported 2026-12-03" in header
    assert "Open Government Licence v3.0" in header and "County Durham 1, Redcar and Cleveland 1" in header


def test_a_file_that_is_not_the_ipn_is_refused_with_the_reason(tmp_path):
    source = tmp_path / "other.csv"
    source.write_text("name,area\nLoftus,Redcar\n")
    with pytest.raises(ValueError, match="placeNNnm and ladNNnm"):
        import_ipn(source, ["Redcar and Cleveland"], tmp_path / "out.tsv", date(2026, 12, 3))


def test_a_malformed_gazetteer_line_is_named(tmp_path):
    path = tmp_path / "places.tsv"
    path.write_text("# header\nLoftus\tRedcar and Cleveland\nPeterlee\n")
    with pytest.raises(ValueError, match="line 3"):
        read_gazetteer(path)


def test_the_import_command_writes_the_file_the_helpline_names_for_its_council_areas(runner, tmp_path):
    source, out = tmp_path / "IPN_GB_2023.csv", tmp_path / "places.tsv"
    source.write_text(IPN, encoding="latin-1")
    result = runner.invoke(args=["places", "import", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 places" in result.output and "County Durham 1" in result.output
    assert ("Loftus", "Redcar and Cleveland") in read_gazetteer(out)
    refused = runner.invoke(args=["places", "import", str(out), "--out", str(tmp_path / "x.tsv")])
    assert refused.exit_code != 0 and "Index of Place Names" in refused.output
