"""Reports for the Dinas Sosial and the LKKS: one self-contained HTML file and an XLSX workbook.

The public entry points are :func:`write_report` and :func:`write_workbook`
(``from welfare_rules.reports import write_report``).
"""

from .report import ReportFiles, report_tables, write_report, write_workbook

__all__ = ["ReportFiles", "report_tables", "write_report", "write_workbook"]
