"""Streaming data-quality profiler (no Django imports here).

    from workers.quality import profile, QualityOptions, validate_table_schema
    report = profile(path_or_binary_file, schema, options=QualityOptions(), progress=cb)
    typed = Report.from_dict(report)   # the same report as dataclasses (report.py)

Layout: profiler.py (profile(), the run), readers/ (one per format, batches of string
columns), passes/ (one per concern; passes/__init__.py says which runs on which
thread), finish.py (figures, gates, score), report.py (typed report), findings.py
(stable codes), score.py; Table Schema in schema.py, fields.py, constraints.py.
"""

from .detect import FORMATS, detect_format, refusal_message
from .options import QualityOptions
from .profiler import profile
from .report import SCHEMA_VERSION, Report
from .schema import TYPES, validate_table_schema
from .score import WEIGHTS, grade_for
from .tableschema import refused_schema_report

__all__ = [
    "FORMATS", "SCHEMA_VERSION", "TYPES", "WEIGHTS", "QualityOptions", "Report", "detect_format", "grade_for", "profile",
    "refusal_message", "refused_schema_report", "validate_table_schema",
]
