from __future__ import annotations

from typing import Any

from django import template

from stormcert.programs import describe
from stormcert.programs.rules import Rules

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def exam_facts(rules: Rules, exam: str) -> str:
    return describe.exam_facts(rules, exam)


@register.filter
def consequence_lines(rules: Rules) -> list[str]:
    return describe.consequence_lines(rules)
