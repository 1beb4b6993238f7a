"""The figures README and docs/ quote come from run records: a paragraph, table row or list item
that links a sweep's report under docs/results/ quotes only figures that report prints, and
tests/analysis/test_report.py regenerates each such report from the runs kept beside it. The
folders whose runs are not kept (yet) are listed here, and the list cannot go stale."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RESULTS = ROOT / "docs" / "results"
# a link to a sweep's folder or its report, from README (docs/results/...) or from docs/ (results/...)
LINK = re.compile(r"\]\((?:docs/)?results/([\w./-]+?)/?(?:report\.md)?(?:#[\w-]*)?\)")
# a figure as the reports print them: two decimals, with its sign where it has one
FIGURE = re.compile(r"(?<![\w.])[-+]?\d+\.\d\d(?![\d.])")

# sweeps whose reports were written before runs were kept beside them; their figures are quoted
# from those reports until the runs are made again (multirun_scripts/records.sh)
AWAITING_RECORDS: set[str] = set()


# the papers' own figures, quoted beside the suite's: 1.37 % (2307.04205) and 1.36 % (Hinton),
# MNIST test error at 4 x 2000, 60 epochs; 84.86 % (2307.04205), IMDb test accuracy; 0.58 %
# (channel-wise competitive FF, AAAI 2024), the conv anchor. Hinton's conv anchor, 1.16 %, is not
# here: it is also best_mnist's own figure, which must not pass unchecked beside a report link
PUBLISHED = {"1.37", "1.36", "84.86", "0.58"}
# published figures whose number is also one of the suite's own elsewhere in the docs (0.64: a
# std in two tables), exempt only where quoted with their source: 0.64 % (Hinton, jittered
# images, 500 epochs), the jitter anchor
CITED = ("0.64 (Hinton",)


def recorded(folder: Path) -> bool:
    return any(folder.rglob("results.json"))


def blocks(page: Path) -> list[tuple[int, str]]:
    """The page's paragraphs, table rows and list items, each with its first line's number."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate([*page.read_text().splitlines(), ""], start=1):
        stripped = line.strip()
        # a table row or a list item stands alone; a blank line ends a paragraph
        if not stripped or stripped.startswith(("|", "- ", "* ")) or re.match(r"\d+\. ", stripped):
            if current:
                out.append((start, " ".join(current)))
            current = []
            if stripped:
                current, start = [stripped], number
                if stripped.startswith("|"):
                    out.append((start, stripped))
                    current = []
            continue
        if not current:
            start = number
        current.append(stripped)
    return out


def quoting_blocks() -> list[tuple[str, str, list[str]]]:
    """(page:line, the block, the sweep folders it links), for every block that links one; a
    table's rows without links of their own quote what the paragraph just above the table links."""
    found = []
    for page in PAGES:
        caption: set[str] = set()
        for line, text in blocks(page):
            # a link to a file beside a report (a log) is not a report
            folders = {m.group(1) for m in LINK.finditer(text) if not Path(m.group(1)).suffix}
            if not text.startswith("|"):
                caption = folders
            elif not folders:
                folders = caption
            if folders:
                found.append((f"{page.relative_to(ROOT)}:{line}", text, sorted(folders)))
    return found


QUOTING = quoting_blocks()


def _normal(text: str) -> str:
    return text.replace("\u2212", "-")


def test_some_blocks_quote_recorded_reports():
    # the check below would pass vacuously if the link pattern stopped matching
    assert any(all(recorded(RESULTS / f) for f in folders) for _, _, folders in QUOTING)


def reports(folder: str) -> list[Path]:
    """The report of a sweep's folder, or those of the sweeps in a folder of sweeps (campaign/)."""
    own = RESULTS / folder / "report.md"
    return [own] if own.is_file() else sorted((RESULTS / folder).rglob("report.md"))


@pytest.mark.parametrize(("where", "text", "folders"), QUOTING, ids=[q[0] for q in QUOTING])
def test_a_linked_report_exists(where, text, folders):
    for folder in folders:
        assert reports(folder), f"{where} links docs/results/{folder}, which holds no report.md"


@pytest.mark.parametrize(("where", "text", "folders"), QUOTING, ids=[q[0] for q in QUOTING])
def test_figures_beside_a_link_to_a_recorded_report_are_in_it(where, text, folders):
    if not all(recorded(RESULTS / f) for f in folders):
        pytest.skip(f"links a report awaiting its runs' records: {', '.join(folders)}")
    printed = _normal(" ".join(report.read_text() for f in folders for report in reports(f)))
    uncited = _normal(text)
    for cited in CITED:
        uncited = uncited.replace(cited, "")
    quoted = [figure for figure in FIGURE.findall(uncited) if figure not in PUBLISHED]
    # an accuracy (IMDb's figures, as the paper gives them) is 100 minus the error a report prints
    missing = [f for f in quoted if f not in printed and f"{100 - float(f):.2f}" not in printed]
    assert not missing, f"{where} quotes {missing}, which {', '.join(folders)} does not print"


def test_the_folders_awaiting_records_are_those_without():
    without = {
        str(report.parent.relative_to(RESULTS))
        for report in RESULTS.rglob("report.md")
        if not recorded(report.parent)
    }
    assert without == AWAITING_RECORDS, (
        "AWAITING_RECORDS lists the folders under docs/results/ whose runs are not kept: "
        f"add {sorted(without - AWAITING_RECORDS)}, remove {sorted(AWAITING_RECORDS - without)}"
    )
