"""Streaming data-quality profiler (no Django imports here).

    from workers.quality import profile, QualityOptions, validate_table_schema
    report = profile(path_or_binary_file, schema, options=QualityOptions(), progress=cb)
"""

from .detect import FORMATS, detect_format, refusal_message
from .options import QualityOptions
from .profiler import profile
from .schema import TYPES, validate_table_schema
from .score import WEIGHTS, grade_for
from .tableschema import refused_schema_report

__all__ = [
    "FORMATS", "TYPES", "WEIGHTS", "QualityOptions", "detect_format", "grade_for", "profile",
    "refusal_message", "refused_schema_report", "validate_table_schema",
]
