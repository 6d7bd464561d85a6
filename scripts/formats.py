"""The formats readers use, made at `release freeze` from the descriptor and the released CSVs:

    <name>-<version>.xlsx            a workbook: a README sheet, then one sheet per resource
    <name>-<version>.sqlite          a database: one table per resource, typed, with its keys
    <name>-<version>.datasette.json  Datasette's metadata for it
                                     (`datasette <name>-<version>.sqlite --metadata <name>-<version>.datasette.json`)

They are frozen with the release and listed in its SHA256SUMS and releases/index.json like every
other file; they are not inside the zip, which is the data package itself.

The workbook is SpreadsheetML written by hand with zipfile, not with openpyxl. openpyxl is only a
test dependency here (the tests read the workbook with it, as spreadsheet users' tools do); it
stamps the wall-clock time into docProps/core.xml and every zip entry, and, worse for a data
release, stores any str beginning with "=" as a formula. Writing the few XML parts ourselves
gives exactly the bytes we choose: entries in a fixed order, the release date as every time, and
text only ever as an inline string (`t="inlineStr"`), which no spreadsheet evaluates. Text that
begins with = + - @ (or a tab or CR) also gets the `quotePrefix` style, so that editing the cell
in Excel or LibreOffice keeps it text instead of turning it into a formula.

Values are typed from the Table Schema: number → a number (REAL), integer and year → an integer,
boolean → a boolean (0/1 in SQLite), anything else → text; a missing value is an empty cell
(NULL), never 0. The SQLite database is built in memory in one transaction, vacuumed and
serialised, so the same release gives the same bytes (with the same SQLite library).
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import sqlite3
import zipfile
from xml.sax.saxutils import escape

from scripts import cite
from scripts.problems import PipelineError, Problem

STAGE = "Formats"
KINDS = {"workbook": ".xlsx", "database": ".sqlite", "datasette": ".datasette.json"}
METADATA_TABLE = "package_metadata"
README_SHEET = "README"
XLSX_MAX_ROWS, XLSX_MAX_CELL = 1_048_576, 32_767
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SQL_TYPES = {"number": "REAL", "integer": "INTEGER", "year": "INTEGER", "boolean": "INTEGER"}
LOC_SEP = " | "  # between locators, which may themselves hold ';' and ','
TRUE, FALSE = {"true", "True", "TRUE", "1"}, {"false", "False", "FALSE", "0"}


def names(desc: dict) -> dict[str, str]:
    """The file name of each format in a release of desc (kind → name)."""
    top = f"{desc['name']}-{desc['version']}"
    return {kind: top + suffix for kind, suffix in KINDS.items()}


def is_derived(rel: str) -> bool:
    """Whether a release file is one of these formats (not part of the zipped data package)."""
    return "/" not in rel and rel.endswith(tuple(KINDS.values()))


def release_formats(desc: dict, files: dict[str, bytes], date: str) -> dict[str, bytes]:
    """The workbook, the database and its Datasette metadata of a release (file name → bytes)."""
    tables = typed_tables(desc, files)
    out = names(desc)
    return {out["workbook"]: workbook(desc, tables, date), out["database"]: database(desc, tables, date),
            out["datasette"]: datasette_metadata(desc, tables, out["database"].removesuffix(".sqlite"))}


def catalog_entries(files: dict[str, bytes], url: str) -> dict:
    """The formats a release folder holds, for downloads/catalog.json: kind → url, sha256, bytes."""
    import hashlib

    out = {}
    for kind, suffix in KINDS.items():
        found = sorted(p for p in files if is_derived(p) and p.endswith(suffix))
        if found:
            out[kind] = {"url": f"{url}/{found[0]}", "sha256": hashlib.sha256(files[found[0]]).hexdigest(),
                         "bytes": len(files[found[0]])}
    return out


def downloads(entry: dict) -> list[dict]:
    """A catalog entry's formats as a list for the templates (kind, name, url, sha256, bytes)."""
    return [{"kind": k, "name": entry[k]["url"].rsplit("/", 1)[-1], **entry[k]} for k in KINDS if k in entry]


# ---------------------------------------------------------------- typed tables

def _cast(value: str, ftype: str):
    if value == "":
        return None
    if ftype == "number":
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if ftype in ("integer", "year"):
        return int(value)
    if ftype == "boolean":
        if value in TRUE | FALSE:
            return value in TRUE
        raise ValueError("not true or false")
    return value


def typed_tables(desc: dict, files: dict[str, bytes]) -> dict[str, list[list]]:
    """Every resource's rows as lists of typed values in schema order (None for missing)."""
    tables, problems = {}, []
    for res in desc["resources"]:
        fields = res["schema"]["fields"]
        text = files[res["path"]].decode("utf-8-sig")
        rows = []
        for line, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            out = []
            for f in fields:
                try:
                    out.append(_cast(row.get(f["name"]) or "", f["type"]))
                except ValueError as e:
                    problems.append(Problem(res["path"], f"{row.get(f['name'])!r} cannot be stored as a {f['type']} ({e}).",
                                            "Correct the value so it matches the schema (make check finds it too).", line, f["name"]))
                    out.append(None)
            rows.append(out)
        tables[res["name"]] = rows
    if problems:
        raise PipelineError(STAGE, problems)
    return tables


def _column(res: dict, rows: list[list], name: str) -> list:
    i = [f["name"] for f in res["schema"]["fields"]].index(name)
    return [r[i] for r in rows]


def unit_of(res: dict, rows: list[list], field: dict) -> str:
    """A field's unit: the schema's, else, for a number, the one value of the resource's unit column."""
    if field.get("unit"):
        return str(field["unit"])
    fnames = [f["name"] for f in res["schema"]["fields"]]
    if field["type"] == "number" and "unit" in fnames:
        units = {u for u in _column(res, rows, "unit") if u}
        if len(units) == 1:
            return units.pop()
    return ""


def header(res: dict, rows: list[list]) -> list[str]:
    """Column titles: each field's title (else name), with its unit in brackets where known."""
    out = []
    for f in res["schema"]["fields"]:
        unit = unit_of(res, rows, f)
        out.append(f"{f.get('title') or f['name']}" + (f" ({unit})" if unit else ""))
    return out


def provenance(desc: dict, tables: dict[str, list[list]]) -> dict[str, list[tuple[str, list[str]]]]:
    """Per resource, the sources its rows cite and their locators: [(source_id, [locator, …])]."""
    out = {}
    for res in desc["resources"]:
        fnames = [f["name"] for f in res["schema"]["fields"]]
        pairs: dict[str, set] = {}
        if "source_id" in fnames and "locator" in fnames:  # (sources' own source_id is its key, not a citation)
            for sid, loc in zip(_column(res, tables[res["name"]], "source_id"), _column(res, tables[res["name"]], "locator")):
                if sid:
                    pairs.setdefault(sid, set()).update([loc] if loc else [])
        out[res["name"]] = [(sid, sorted(locs)) for sid, locs in sorted(pairs.items())]
    return out


def source_records(desc: dict, tables: dict[str, list[list]]) -> dict[str, dict]:
    """source_id → its row of the sources resource (if the package has one), with `label`:
    how the site names it ('Ivanov (2005)')."""
    res = next((r for r in desc["resources"] if r["name"] == "sources"), None)
    out = {}
    for row in tables["sources"] if res else []:
        rec = {f["name"]: ("" if v is None else v) for f, v in zip(res["schema"]["fields"], row)}
        try:
            rec["label"] = cite.source_label(rec)
        except KeyError:
            rec["label"] = str(rec.get("title") or rec.get("source_id"))
        out[str(rec.get("source_id"))] = rec
    return out


def source_labels(desc: dict, tables: dict[str, list[list]]) -> dict[str, str]:
    return {sid: rec["label"] for sid, rec in source_records(desc, tables).items()}


def sources_text(prov: list[tuple[str, list[str]]], labels: dict[str, str]) -> str:
    return "; ".join(f"{labels.get(sid, sid)} [{LOC_SEP.join(locs)}]" if locs else labels.get(sid, sid) for sid, locs in prov)


def citation(desc: dict, date: str) -> str:
    return cite.apa(cite.work(desc, desc["version"], date))


def licence(desc: dict) -> tuple[str, str]:
    lics = desc.get("licenses") or []
    return ("; ".join(l.get("title") or l.get("name", "") for l in lics), "; ".join(l.get("path", "") for l in lics))


# ---------------------------------------------------------------- the workbook

_BAD_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4})_")


def xml_text(value: str) -> str:
    """Text for SpreadsheetML: characters XML cannot hold as _xHHHH_ (and a literal _xHHHH_
    escaped), then &, < and > as entities."""
    value = _ESCAPED.sub(r"_x005F_\1_", value)
    return escape(_BAD_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", value))


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(ref: str, value, style: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = str(value)
    style = 2 if text.startswith(FORMULA_START) and not style else style
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'


def sheet_xml(rows: list[list], freeze: bool, bold_rows: set[int]) -> str:
    width = max((len(r) for r in rows), default=1)
    widths = [10] * width
    body = []
    for n, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{col_letter(i)}{n}", v, 1 if n in bold_rows else 0) for i, v in enumerate(row))
        body.append(f'<row r="{n}">{cells}</row>')
        for i, v in enumerate(row):
            widths[i] = max(widths[i], min(60, len(str(v)) + 2 if v is not None else 0))
    pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' if freeze else ""
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths))
    return (XML + f'<worksheet xmlns="{MAIN}"><dimension ref="A1:{col_letter(width - 1)}{max(len(rows), 1)}"/>'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews><cols>{cols}</cols>'
            f'<sheetData>{"".join(body)}</sheetData></worksheet>')


def sheet_names(desc: dict) -> dict[str, str]:
    """resource → sheet name: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    taken, out = {README_SHEET.lower()}, {}
    for res in desc["resources"]:
        base = re.sub(r"[\[\]:*?/\\]", "_", res["name"]).strip("'")[:31] or "sheet"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base[:31 - len(str(n)) - 1]}~{n}"
        taken.add(name.lower())
        out[res["name"]] = name
    return out


def readme_rows(desc: dict, tables: dict[str, list[list]], date: str, sheets: dict[str, str]) -> tuple[list[list], set[int]]:
    lic_title, lic_url = licence(desc)
    records, prov = source_records(desc, tables), provenance(desc, tables)
    labels = {sid: rec["label"] for sid, rec in records.items()}
    rows: list[list] = [[desc.get("title", desc["name"])], ["Package", desc["name"]], ["Version", desc["version"]],
                        ["Released", date], ["Licence", f"{lic_title} {lic_url}".strip()], ["Cite as", citation(desc, date)]]
    if desc.get("homepage"):
        rows.append(["Homepage", desc["homepage"]])
    if desc.get("description"):
        rows.append(["Description", desc["description"]])
    rows += [["Values", "As printed in the sources, in their units; an empty cell is a value the source does not give (never 0)."],
             [], ["Source", "Cited as", "Title", "Locators (where in the source)"]]
    bold = {1, len(rows)}
    used: dict[str, set] = {}
    for pairs in prov.values():
        for sid, locs in pairs:
            used.setdefault(sid, set()).update(locs)
    for sid in sorted(set(labels) | set(used)):
        rows.append([sid, labels.get(sid, sid), records.get(sid, {}).get("title", ""), LOC_SEP.join(sorted(used.get(sid, ())))])
    for s in desc.get("sources", []) if not labels else []:
        rows.append(["", s.get("title", ""), s.get("path", "")])
    rows += [[], ["Sheet", "Resource", "Title", "Rows", "Sources [locators]", "Description"]]
    bold.add(len(rows))
    for res in desc["resources"]:
        rows.append([sheets[res["name"]], res["name"], res.get("title", ""), len(tables[res["name"]]),
                     sources_text(prov[res["name"]], labels), res.get("description", "")])
    return rows, bold


XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument."
STYLES = (XML + f'<styleSheet xmlns="{MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
          '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def workbook(desc: dict, tables: dict[str, list[list]], date: str) -> bytes:
    """The .xlsx of a release: README sheet first, then one sheet per resource (header row of
    titles with units, typed cells), every byte fixed by the descriptor, the data and the date."""
    sheets = sheet_names(desc)
    readme, bold = readme_rows(desc, tables, date, sheets)
    parts = [(README_SHEET, sheet_xml(readme, False, bold))]
    for res in desc["resources"]:
        rows = tables[res["name"]]
        if len(rows) + 1 > XLSX_MAX_ROWS:
            raise PipelineError(STAGE, [Problem(res["path"], f"{len(rows)} rows do not fit in a worksheet ({XLSX_MAX_ROWS - 1} at most).",
                                                "Split the resource; the CSV and the database hold it whole.")])
        long = [(n, f["name"]) for n, row in enumerate(rows, start=2) for f, v in zip(res["schema"]["fields"], row)
                if isinstance(v, str) and len(v) > XLSX_MAX_CELL]
        if long:
            raise PipelineError(STAGE, [Problem(res["path"], f"a text longer than {XLSX_MAX_CELL} characters does not fit in a cell.",
                                                "Shorten the text (quotes are short passages).", n, f) for n, f in long])
        parts.append((sheets[res["name"]], sheet_xml([header(res, rows)] + rows, True, {1})))
    stamp = f"{date}T00:00:00Z"
    lic_title, _ = licence(desc)
    entries = [
        ("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         f'<Override PartName="/xl/workbook.xml" ContentType="{CT}spreadsheetml.sheet.main+xml"/>'
         + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT}spreadsheetml.worksheet+xml"/>'
                   for i in range(1, len(parts) + 1))
         + f'<Override PartName="/xl/styles.xml" ContentType="{CT}spreadsheetml.styles+xml"/>'
         '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
         f'<Override PartName="/docProps/app.xml" ContentType="{CT}extended-properties+xml"/></Types>'),
        ("_rels/.rels", XML + f'<Relationships xmlns="{PKG_REL}">'
         f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
         f'<Relationship Id="rId2" Type="{PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
         f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>'),
        ("docProps/core.xml", XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
         f'<dc:title>{xml_text(desc.get("title", desc["name"]))}</dc:title>'
         f'<dc:creator>{xml_text(" & ".join(a.get("name") or ", ".join(filter(None, [a.get("family"), a.get("given")])) for a in cite.creators(desc)))}</dc:creator>'
         f'<dc:description>{xml_text(citation(desc, date))}</dc:description>'
         f'<dc:rights>{xml_text(lic_title)}</dc:rights><cp:version>{xml_text(desc["version"])}</cp:version>'
         f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
         f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'),
        ("docProps/app.xml", XML + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
         '<Application>scripts.formats</Application></Properties>'),
        ("xl/workbook.xml", XML + f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView/></bookViews><sheets>'
         + "".join(f'<sheet name="{xml_text(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(parts, start=1))
         + "</sheets></workbook>"),
        ("xl/_rels/workbook.xml.rels", XML + f'<Relationships xmlns="{PKG_REL}">'
         + "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(parts) + 1))
         + f'<Relationship Id="rId{len(parts) + 1}" Type="{REL}/styles" Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml", STYLES),
    ] + [(f"xl/worksheets/sheet{i}.xml", xml) for i, (_, xml) in enumerate(parts, start=1)]
    return _zip(entries, date)


def _zip(entries: list[tuple[str, str]], date: str) -> bytes:
    """A zip with the entries in the given order, the date at 00:00:00 as every time, mode 0644."""
    y, m, d = (int(x) for x in date.split("-"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in entries:
            info = zipfile.ZipInfo(name, date_time=(y, m, d, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o100644 << 16
            zf.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


# ---------------------------------------------------------------- the database

def quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def create_table(res: dict) -> str:
    schema = res["schema"]
    cols = [f"{quote(f['name'])} {SQL_TYPES.get(f['type'], 'TEXT')}" + (" NOT NULL" if f.get("constraints", {}).get("required") else "")
            for f in schema["fields"]]
    pk = cite.as_list(schema.get("primaryKey", []))
    if pk:
        cols.append(f"PRIMARY KEY ({', '.join(map(quote, pk))})")
    for fk in schema.get("foreignKeys", []):
        target = fk["reference"].get("resource") or res["name"]
        cols.append(f"FOREIGN KEY ({', '.join(map(quote, cite.as_list(fk['fields'])))}) REFERENCES {quote(target)} "
                    f"({', '.join(map(quote, cite.as_list(fk['reference']['fields'])))})")
    return f"CREATE TABLE {quote(res['name'])} (\n  " + ",\n  ".join(cols) + "\n)"


def metadata_rows(desc: dict, tables: dict[str, list[list]], date: str) -> list[tuple[str, str]]:
    lic_title, lic_url = licence(desc)
    labels, prov = source_labels(desc, tables), provenance(desc, tables)
    rows = [("name", desc["name"]), ("title", desc.get("title", desc["name"])), ("version", desc["version"]),
            ("released", date), ("licence", lic_title), ("licence_url", lic_url), ("citation", citation(desc, date)),
            ("homepage", desc.get("homepage", "")), ("description", desc.get("description", ""))]
    for res in desc["resources"]:
        rows += [(f"{res['name']}.title", res.get("title", "")), (f"{res['name']}.source", sources_text(prov[res["name"]], labels))]
    return rows


def database(desc: dict, tables: dict[str, list[list]], date: str) -> bytes:
    """The .sqlite of a release: one table per resource with declared types and keys, typed rows,
    and the package's metadata as key/value rows; checked with SQLite's own foreign key and
    integrity checks before it is returned."""
    if any(r["name"] == METADATA_TABLE for r in desc["resources"]):
        raise PipelineError(STAGE, [Problem("datapackage.json", f"a resource is named {METADATA_TABLE!r}, the database's metadata table.",
                                            "Rename the resource.")])
    con = sqlite3.connect(":memory:")
    try:
        con.execute("PRAGMA page_size = 4096")
        with con:
            for res in desc["resources"]:
                con.execute(create_table(res))
                marks = ", ".join("?" * len(res["schema"]["fields"]))
                try:
                    con.executemany(f"INSERT INTO {quote(res['name'])} VALUES ({marks})", tables[res["name"]])
                except sqlite3.DatabaseError as e:
                    raise PipelineError(STAGE, [Problem(res["path"], f"its rows do not fit its table ({e}).",
                                                        "Correct the rows or the schema's keys (make check finds duplicates).")]) from None
            con.execute(f"CREATE TABLE {METADATA_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            con.executemany(f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)", metadata_rows(desc, tables, date))
        broken: dict[tuple[str, str], int] = {}
        for table, _, parent, _ in con.execute("PRAGMA foreign_key_check"):
            broken[table, parent] = broken.get((table, parent), 0) + 1
        if broken:
            paths = {r["name"]: r["path"] for r in desc["resources"]}
            raise PipelineError(STAGE, [Problem(paths.get(t, t), f"{n} row(s) refer to rows that {parent} does not have.",
                                                "Add the referenced rows or correct the references (make check names them).")
                                        for (t, parent), n in sorted(broken.items())])
        con.execute("VACUUM")
        return con.serialize()
    finally:
        con.close()


def datasette_metadata(desc: dict, tables: dict[str, list[list]], db_name: str) -> bytes:
    """Datasette's metadata.json: title, description, licence, source, and per table its title,
    description, source and column descriptions (with units)."""
    lic_title, lic_url = licence(desc)
    labels, prov = source_labels(desc, tables), provenance(desc, tables)
    home = desc.get("homepage", "")
    out_tables = {}
    for res in desc["resources"]:
        rows = tables[res["name"]]
        columns = {}
        for f in res["schema"]["fields"]:
            unit = unit_of(res, rows, f)
            columns[f["name"]] = " ".join(x for x in (f.get("description", ""), f"Unit: {unit}." if unit else "") if x)
        out_tables[res["name"]] = {"title": res.get("title", res["name"]), "description": res.get("description", ""),
                                   "source": sources_text(prov[res["name"]], labels) or desc.get("title", desc["name"]),
                                   "source_url": f"{home}datasets/{res['name']}/" if home else "",
                                   "license": lic_title, "license_url": lic_url, "columns": columns}
    out_tables[METADATA_TABLE] = {"title": "About this package", "description": "Title, version, licence, citation and sources, as key/value rows.",
                                  "columns": {"key": "What the row states.", "value": "Its value."}}
    meta = {"title": desc.get("title", desc["name"]), "description": desc.get("description", ""),
            "license": lic_title, "license_url": lic_url,
            "source": "; ".join(s.get("title", "") for s in desc.get("sources", [])) or desc.get("title", desc["name"]),
            "source_url": home, "databases": {db_name: {"title": f"{desc.get('title', desc['name'])}, version {desc['version']}",
                                                       "tables": out_tables}}}
    return (json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
