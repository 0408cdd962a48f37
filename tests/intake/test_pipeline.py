from intake.dossier import PageResult
from intake.model import Page, PageKind
from intake.pipeline import assign_copies


def _page(doc, number, kind, footer):
    return PageResult(Page(doc, number, 100, 100, 200, kind=kind, footer=footer))


def test_copies_are_told_apart_by_page_numbers_not_file_names():
    pages = [_page("all.pdf", i + 1, PageKind.FORM, (n, 5)) for i, n in enumerate([1, 2, 4])]
    pages += [_page("all.pdf", 4, PageKind.CERTIFICATE, None)]
    pages += [_page("all.pdf", 5 + i, PageKind.FORM, (n, 5)) for i, n in enumerate([1, 2, 3, 4])]
    pages += [_page("op.pdf", 1, PageKind.APPROVAL, (5, 5)), _page("op.pdf", 2, PageKind.APPROVAL,
                                                                    (5, 5))]
    copies = [r.copy for r in assign_copies(pages)]
    # copy 1 lacks page 3 and still counts as one copy; the certificate stays with copy 1.
    assert copies == [1, 1, 1, 1, 2, 2, 2, 2, 1, 2]
