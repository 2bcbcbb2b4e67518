"""The check families the engine runs, in order. A new family is one line here."""

from __future__ import annotations

from clearsight.checks.api_existence import ApiExistenceCheck
from clearsight.checks.base import Check
from clearsight.checks.complexity import ComplexityCheck
from clearsight.checks.dataflow import DataflowCheck
from clearsight.checks.dependencies import DependencyCheck
from clearsight.checks.new_dependency import NewDependencyCheck
from clearsight.checks.performance import PerformanceCheck
from clearsight.checks.provenance import ProvenanceCheck
from clearsight.checks.security import SecurityCheck

CHECKS: tuple[Check, ...] = (
    ComplexityCheck(),
    SecurityCheck(),
    DataflowCheck(),
    PerformanceCheck(),
    DependencyCheck(),
    ApiExistenceCheck(),
    NewDependencyCheck(),
    ProvenanceCheck(),
)
