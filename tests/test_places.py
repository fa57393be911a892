"""The gazetteer file, and making it from the ONS Index of Place Names or a published extract of it."""

from datetime import date

import pytest

from ivr.places import Place, import_extract, import_ipn, read_gazetteer

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
    assert read_gazetteer(out) == [Place("Peterlee", "County Durham"), Place("Loftus", "Redcar and Cleveland")]
    header = out.read_text().split("\nPeterlee")[0]
    assert "ONS Index of Place Names (IPN_GB_2023.csv; Open Government Licence v3.0" in header
    assert "imported 2026-12-03" in header and "County Durham 1, Redcar and Cleveland 1 (2 in all)" in header


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
    assert Place("Loftus", "Redcar and Cleveland") in read_gazetteer(out)
    refused = runner.invoke(args=["places", "import", str(out), "--out", str(tmp_path / "x.tsv")])
    assert refused.exit_code != 0 and "Index of Place Names" in refused.output


EXTRACT = """name\tlat\tlon\tdistrict\tplaces
Acklam\t\t\t\t2
Loftus\t54.5560\t-0.8893\tRedcar and Cleveland\t1
Pelaw, South\t54.8636\t-1.5834\tCounty Durham\t1
South Pelaw\t54.8636\t-1.5834\tCounty Durham\t1
Peterlee\t54.7600\t-1.3360\tCounty Durham\t1
Thornton (Stainton and Thornton)\t54.5146\t-1.2624\tMiddlesbrough\t1
Washington\t54.9000\t-1.5200\tSunderland\t1
"""
AREAS = ["Middlesbrough", "Redcar and Cleveland", "County Durham"]
SOURCE = "owner/repo data/places.tsv at commit abc1234"


def test_an_extract_is_cut_to_our_council_areas_once_each_as_callers_say_the_names(tmp_path):
    source, out = tmp_path / "extract.tsv", tmp_path / "places.tsv"
    source.write_text(EXTRACT, encoding="utf-8")
    counts = import_extract([source], AREAS, out, date(2026, 12, 3), SOURCE, "2024")
    assert counts == {"County Durham": 2, "Redcar and Cleveland": 1, "Middlesbrough": 1}
    places = read_gazetteer(out)
    assert sorted(p.spoken for p in places) == ["Loftus", "Peterlee", "South Pelaw", "Thornton"]
    header = out.read_text(encoding="utf-8").split("\n\n# ----")[0]
    assert ("ONS Index of Place Names 2024 (Open Government Licence v3.0; contains OS data \u00a9 Crown copyright "
            "and database right), as extracted in owner/repo data/places.tsv at commit abc1234, districts filtered "
            "on 2026-12-03") in header
    assert "Published: Middlesbrough 1, Redcar and Cleveland 1, County Durham 2 (4 in all)" in header


def test_an_extract_in_parts_keeps_the_places_added_by_hand_with_their_reasons(tmp_path):
    lines = EXTRACT.splitlines(keepends=True)
    part1, part2, out = tmp_path / "part1.tsv", tmp_path / "part2.tsv", tmp_path / "places.tsv"
    part1.write_text("".join(lines[1:4]), encoding="utf-8")  # no header: rows only
    part2.write_text("".join(lines[4:]), encoding="utf-8")
    keep = [Place("Peterlee", "County Durham"), Place("Acklam", "Middlesbrough", "a name several places share"),
            Place("Loftus", "Hartlepool", "wrongly placed by hand"), Place("Elvet", "County Durham")]
    counts = import_extract([part1, part2], AREAS, out, date(2026, 12, 3), SOURCE, "2024", keep)
    places = read_gazetteer(out)
    # published rows first, the places the earlier list had leading; then the one added by hand, saying
    # why; the published Loftus wins over the hand list's, and Elvet, not marked by hand, is not kept
    assert [p.name for p in places] == [
        "Peterlee", "Loftus", "South Pelaw", "Thornton (Stainton and Thornton)", "Acklam"]
    assert places[-1] == Place("Acklam", "Middlesbrough", "a name several places share")
    assert "Acklam\tMiddlesbrough\tadded by hand: a name several places share" in out.read_text(encoding="utf-8")
    assert counts["Middlesbrough"] == 2 and "Hartlepool" not in counts


def test_a_file_that_is_not_the_extract_is_refused_with_the_reason(tmp_path):
    source = tmp_path / "other.tsv"
    source.write_text("Loftus\tRedcar and Cleveland\n")
    with pytest.raises(ValueError, match="line 1: expected 5 tab-separated columns"):
        import_extract([source], AREAS, tmp_path / "out.tsv", date(2026, 12, 3), SOURCE, "2024")


def test_a_third_field_must_say_the_place_was_added_by_hand(tmp_path):
    path = tmp_path / "places.tsv"
    path.write_text("Loftus\tRedcar and Cleveland\tsomething\n")
    with pytest.raises(ValueError, match="line 1"):
        read_gazetteer(path)


def test_the_import_command_reads_an_extract_in_parts_and_says_where_it_was_published(runner, tmp_path):
    source, out = tmp_path / "part1.tsv", tmp_path / "places.tsv"
    source.write_text(EXTRACT, encoding="utf-8")
    refused = runner.invoke(args=["places", "import", str(source), "--out", str(out)])
    assert refused.exit_code != 0 and "--extracted-in" in refused.output and not out.exists()
    hand = tmp_path / "hand.tsv"
    hand.write_text("Acklam\tMiddlesbrough\n")
    result = runner.invoke(args=["places", "import", str(source), "--out", str(out), "--keep", str(hand),
                                 "--extracted-in", SOURCE])
    assert result.exit_code == 0, result.output
    assert "Wrote 5 places" in result.output and "Middlesbrough 2" in result.output
    assert Place("Acklam", "Middlesbrough", "not in the published source; listed in hand.tsv") in read_gazetteer(out)
    # importing again keeps what was added by hand, from the gazetteer being replaced
    again = runner.invoke(args=["places", "import", str(source), "--out", str(out), "--extracted-in", SOURCE])
    kept = Place("Acklam", "Middlesbrough", "not in the published source; listed in hand.tsv")
    assert again.exit_code == 0 and kept in read_gazetteer(out)
