"""Process names keep Workflow's shape, which users and the original CLI read and type."""

from __future__ import annotations

import re

from deis_common.podnames import NAME_TAIL, full_name, process_name, template_hash

WORKFLOW_SHAPE = re.compile(r"^shop-web-[0-9]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def test_names_have_a_release_hash_of_8_to_10_digits_and_a_kubernetes_suffix() -> None:
    names = {process_name("shop", "web", f"template-{i}") for i in range(200)}

    assert all(WORKFLOW_SHAPE.match(name) for name in names), sorted(names)[:3]
    assert all(NAME_TAIL.search(name) for name in names)


def test_processes_of_one_release_and_type_share_the_hash_and_differ_in_the_suffix() -> None:
    first, second = process_name("shop", "web", "abc123"), process_name("shop", "web", "abc123")

    assert first.rsplit("-", 1)[0] == second.rsplit("-", 1)[0] == f"shop-web-{template_hash('abc123')}"
    assert first != second
    assert template_hash("abc123") != template_hash("abc124")


def test_a_short_name_is_expanded_with_the_app_and_a_full_one_is_kept() -> None:
    assert full_name("shop", "web-123456789-x2b4z") == "shop-web-123456789-x2b4z"
    assert full_name("shop", "shop-web-123456789-x2b4z") == "shop-web-123456789-x2b4z"
    assert full_name("shop", "web-2-123456789-x2b4z") == "shop-web-2-123456789-x2b4z"
    # an app named like its process type
    assert full_name("web", "web-123456789-x2b4z") == "web-web-123456789-x2b4z"
    assert full_name("web", "web-web-123456789-x2b4z") == "web-web-123456789-x2b4z"
