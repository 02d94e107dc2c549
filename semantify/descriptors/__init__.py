"""Descriptors: candidate vocabularies, their per-sample values, and automatic selection."""

from semantify.descriptors.report import summary_table, write_report
from semantify.descriptors.selection import Baseline, Selection, select_descriptors
from semantify.descriptors.values import descriptor_values, load_scorer, split_descriptors
from semantify.descriptors.vocabulary import (are_antonyms, parse_descriptors, resolve_candidates,
                                              vocabulary, vocabulary_names)

__all__ = ["Baseline", "Selection", "are_antonyms", "descriptor_values", "load_scorer",
           "parse_descriptors", "resolve_candidates", "select_descriptors", "split_descriptors",
           "summary_table", "vocabulary", "vocabulary_names", "write_report"]
