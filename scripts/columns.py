"""The order of a data table's columns on its dataset page, from the rule in spec/tables.yml.

A field's role (key, name, value, detail, provenance…) comes from its resource's Table Schema
(primary key, `unit`) and the field names the rule lists; the table shows the roles in the
rule's order. Nothing here names a resource: a new resource is ordered by the same rule. The
downloads keep the descriptor's order.

    order(rule, resource) -> ["period", "flow", "value", "value_in_source", "unit", …, "source_id", …]
"""
from __future__ import annotations

KINDS = ("primary_key", "unit", "fields", "rest")


def rule_problems(rule) -> list[str]:
    """What is wrong with the rule (spec/tables.yml), as messages; [] if nothing."""
    if not isinstance(rule, dict) or not isinstance(rule.get("roles"), dict) or not isinstance(rule.get("precedence"), list):
        return ["spec/tables.yml needs roles: (a mapping) and precedence: (a list of role names)"]
    roles, errors = rule["roles"], []
    if sorted(rule["precedence"]) != sorted(roles):
        errors.append("precedence must list every role of roles: once")
    for name, role in roles.items():
        if not isinstance(role, dict) or not set(role) & set(KINDS) or set(role) - set(KINDS) - {"except"}:
            errors.append(f"role {name!r} needs one or more of {', '.join(KINDS)} (and may have except:)")
        elif not all(isinstance(x, str) for x in role.get("fields", []) + role.get("except", [])):
            errors.append(f"role {name!r}: fields and except are lists of field names")
    return errors


def _matches(role: dict, field: dict, pk: list[str]) -> bool:
    name = field["name"]
    if role.get("primary_key") and name in pk and not (len(pk) > 1 and name in role.get("except", [])):
        return True
    return bool(name in role.get("fields", []) or (role.get("unit") and "unit" in field) or role.get("rest"))


def roles_of(rule: dict, resource: dict) -> dict[str, str]:
    """Each field's role (field name → role name)."""
    schema = resource["schema"]
    pk = schema.get("primaryKey", [])
    pk = [pk] if isinstance(pk, str) else list(pk)
    out = {}
    for field in schema["fields"]:
        out[field["name"]] = next((r for r in rule["precedence"] if _matches(rule["roles"][r], field, pk)), rule["precedence"][-1])
    return out


def order(rule: dict, resource: dict) -> list[str]:
    """The resource's field names in the order its data table shows them."""
    schema = resource["schema"]
    pk = schema.get("primaryKey", [])
    pk = [pk] if isinstance(pk, str) else list(pk)
    names = [f["name"] for f in schema["fields"]]
    role_of = roles_of(rule, resource)

    def rank(name: str, role: dict) -> tuple:
        listed = role.get("fields", [])
        if name in listed:
            return (0, listed.index(name))
        return (1, pk.index(name) if name in pk else len(pk) + names.index(name))

    shown = []
    for r, role in rule["roles"].items():
        shown += sorted((n for n in names if role_of[n] == r), key=lambda n: rank(n, role))
    return shown
