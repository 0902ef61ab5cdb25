"""Evaluate a region's reports: declared indicators, scores with the evidence behind every lost point,
rankings by level and region, and per indicator and per rule how many reports failed."""

from __future__ import annotations

from .indicators import DEFAULT_INDICATORS, Indicator, load_indicators
from .score import Evaluation, ReportFacts, Scored, evaluate, facts_of, once_per_agency_year, score_report
from .stored import stored_facts

__all__ = ["DEFAULT_INDICATORS", "Evaluation", "Indicator", "ReportFacts", "Scored", "evaluate", "facts_of",
           "load_indicators", "once_per_agency_year", "score_report", "stored_facts"]
