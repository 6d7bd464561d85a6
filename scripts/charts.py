"""Static, accessible charts for the Japan–Russia economic cooperation site.

The pipeline calls :func:`render_all` with the data package's tables (one
pandas DataFrame per resource) and an output directory. For every chart it
writes a light and a dark SVG (Altair -> Vega-Lite -> vl-convert, no
JavaScript, no external fonts or URLs) and the tidy CSV behind the chart, and
returns one metadata dict per chart.

Design:

* one ``_chart_*`` function per chart: a pure function from the tables to a
  :class:`ChartDef` (Altair chart without theme, the tidy data, texts);
* :func:`theme_config` holds every colour and font: the light and dark
  variants differ only by their Vega-Lite ``config``;
* :func:`finish_svg` post-processes vl-convert's SVG: stable, namespaced ids,
  ``role="img"``, ``aria-labelledby`` and the root ``<title>``/``<desc>``.

Values are drawn and written exactly as they are in the data (no rescaling);
missing values are left out, never drawn as zero.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import pathlib
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

import altair as alt
import pandas as pd
import vl_convert as vlc

from scripts.cite import source_label

__all__ = ["render_all", "theme_config", "finish_svg", "CHART_IDS"]

CHART_IDS = (
    "trade-1998-2005",
    "trade-totals-all-sources",
    "far-east-by-region",
    "investment-by-sector",
    "plan-documents",
    "jbic-loans",
)

WIDTH = 640
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif'
VARIANTS = ("light", "dark")

# Colours. Every text colour has at least 4.5:1 contrast on its background
# (WCAG AA), and every mark colour at least 4.5:1 as well (light: on white;
# dark: on #1e2129). The categorical ranges follow Okabe–Ito hues.
_PALETTES = {
    "light": {
        "background": "#ffffff",
        "text": "#1f2328",  # 15.8:1
        "muted": "#57606a",  # 6.4:1
        "axis": "#6e7781",
        "grid": "#d0d7de",
        "band": "#eaeef2",
        "category": ["#0072b2", "#b35000", "#007a5a", "#a4457f", "#8a6d00"],
    },
    "dark": {
        "background": "#1e2129",
        "text": "#e6edf3",  # 13.6:1
        "muted": "#aeb7c2",  # 7.9:1
        "axis": "#8b949e",
        "grid": "#3a404c",
        "band": "#2d323d",
        "category": ["#56b4e9", "#e69f00", "#2ec4a0", "#e69ac8", "#f0e442"],
    },
}

_FLOW_LABELS = {
    "export": "Exports to Japan",
    "import": "Imports from Japan",
}

_SECTOR_LABELS = {
    "total": "Total",
    "mining": "Mining",
    "manufacturing": "Manufacturing",
}

@dataclass(frozen=True)
class ChartDef:
    """Everything one chart needs, before theming and rendering."""

    id: str
    title: str
    description: str
    caption: str
    resources: tuple[str, ...]
    unit: str
    chart: alt.TopLevelMixin
    data: pd.DataFrame  # exactly the CSV written next to the SVGs


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _is_missing(value) -> bool:
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(column: pd.Series) -> pd.Series:
    """A text column as plain str, missing values as '' (never '<NA>' or 'nan')."""
    return pd.Series(["" if _is_missing(v) else str(v) for v in column], index=column.index, dtype=object)


def _decimals(values) -> int:
    """Decimal places needed to write every value of a column exactly."""
    decimals = 0
    for value in values:
        if not _is_missing(value) and not float(value).is_integer():
            decimals = max(decimals, len(repr(float(value)).split(".")[1]))
    return decimals


def _num(value, decimals: int | None = None) -> str:
    """A number for prose, with thousands commas; by default its shortest exact form."""
    value = float(value)
    if decimals is None:
        decimals = _decimals([value])
    return f"{value:,.{decimals}f}"


def _pct(value, decimals: int | None = None) -> str:
    return f"{_num(value, decimals)}%"


def _vega_number(field: str, decimals: int) -> str:
    """Vega expression writing a field with fixed decimals (as in the CSV)."""
    return f"format(datum.{field}, '.{decimals}f')"


def _plural_join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _source_row(tables: dict, source_id: str) -> dict:
    sources = tables["sources"]
    return sources[sources["source_id"] == source_id].iloc[0].to_dict()


def _source_label(tables: dict, source_id: str) -> str:
    """Legend name of a source document, e.g. 'Ivanov 2005' (from the sources table)."""
    return source_label(_source_row(tables, source_id), short=True)


def _source_cite(tables: dict, source_id: str) -> str:
    """Caption name of a source document, e.g. 'Ivanov (2005)'."""
    return source_label(_source_row(tables, source_id))


def _org_name(tables: dict, source_id) -> str | None:
    """Name of a statistical source (the `author` of a `sources` row)."""
    if _is_missing(source_id):
        return None
    return str(_source_row(tables, source_id)["author"])


def _merge_locators(locators) -> str:
    """Join distinct locators; 'para. 2; para. 3' -> 'paras. 2, 3'."""
    parts: list[str] = []
    for locator in locators:
        for part in str(locator).split("; "):
            if part not in parts:
                parts.append(part)
    paras = [re.fullmatch(r"para\. (\d+)", p) for p in parts]
    if len(parts) > 1 and all(paras):
        numbers = sorted({int(m.group(1)) for m in paras})
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"paras. {numbers[0]}–{numbers[-1]}"
        return "paras. " + ", ".join(str(n) for n in numbers)
    return "; ".join(parts)


def _caption(tables: dict, data: pd.DataFrame, unit: str, extra: str = "") -> str:
    """'Source: Ivanov (2005), Table 1, from <statistical source>. Unit: …'"""
    cited = []
    for source_id in dict.fromkeys(data["source_id"]):
        rows = data[data["source_id"] == source_id]
        text = f"{_source_cite(tables, source_id)}, {_merge_locators(dict.fromkeys(rows['locator']))}"
        if "primary_source_id" in rows:
            primaries = [p for p in dict.fromkeys(rows["primary_source_id"]) if not _is_missing(p)]
            names = [_org_name(tables, p) for p in primaries]
            if names:
                text += ", from the " + " and the ".join(names)
        cited.append(text)
    label = "Source" if len(cited) == 1 else "Sources"
    caption = f"{label}: " + "; ".join(cited) + f". Unit: {unit}."
    return caption + (f" {extra}" if extra else "")


def _year_of(date_text: str) -> int:
    return int(str(date_text)[:4])


def _labelled_bars(data: pd.DataFrame, key: str, order: list, label: str, value: str, value_label: str, x_title: str):
    """Horizontal bars with a text line above each bar and the value at its end.

    ``label`` and ``value_label`` are Vega expressions on the row; long
    labels fit because they run above the bar instead of in an axis.
    """
    step, bar = 44, 18
    base = alt.Chart(data).transform_calculate(label=label, value_label=value_label)
    y = alt.Y(
        f"{key}:N",
        sort=order,
        axis=None,
        scale=alt.Scale(paddingInner=1 - bar / step, paddingOuter=0.4),
    )
    x = alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(tickCount=6))
    bars = base.mark_bar(style="single").encode(x=x, y=y)
    names = base.mark_text(align="left", baseline="bottom", dy=-(bar // 2 + 3), fontSize=12).encode(
        x=alt.datum(0), y=y, text="label:N"
    )
    values = base.mark_text(align="left", baseline="middle", dx=5, fontSize=12, fontWeight="bold").encode(
        x=x, y=y, text="value_label:N"
    )
    return alt.layer(bars, names, values).properties(height=alt.Step(step))


def _fit(chart, title: alt.Title):
    """A single-view chart fitted to WIDTH pixels, padding included."""
    return chart.properties(
        width=WIDTH, title=title, autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


# --------------------------------------------------------------------------
# Charts: one pure function per chart, tables -> ChartDef
# --------------------------------------------------------------------------


def _chart_trade_1998_2005(tables: dict) -> ChartDef:
    trade = tables["bilateral_trade"]
    rows = trade[
        (trade["source_id"] == "ivanov-2005")
        & (trade["locator"] == "Table 1")
        & trade["flow"].isin(["export", "import"])
        & trade["value"].notna()
    ]
    data = pd.DataFrame(
        {
            "period": _text(rows["period"]),
            "period_label": [
                f"{str(s)[:4]} H1 (first half only)" if t == "half-year" else str(p)
                for p, t, s in zip(rows["period"], rows["period_type"], rows["period_start"])
            ],
            "partial": (rows["period_type"] != "year").astype(bool),
            "flow": _text(rows["flow"]),
            "flow_label": rows["flow"].map(_FLOW_LABELS).astype(str),
            "reporter": _text(rows["reporter"]),
            "partner": _text(rows["partner"]),
            "value": rows["value"].astype(float),
            "unit": _text(rows["unit"]),
            "source_id": _text(rows["source_id"]),
            "locator": _text(rows["locator"]),
            "primary_source_id": _text(rows["primary_source_id"]),
        }
    ).sort_values(["period", "flow"], kind="stable").reset_index(drop=True)

    unit = str(data["unit"].iloc[0])
    decimals = _decimals(data["value"])
    order = list(dict.fromkeys(data["period_label"]))
    flows = [_FLOW_LABELS[f] for f in ("export", "import")]
    base = alt.Chart(data)
    x = alt.X(
        "period_label:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=0, labelExpr="split(replace(datum.label, ' (', '|('), '|')"),
    )
    band = (
        base.transform_filter("datum.partial")
        .transform_aggregate(count="count()", groupby=["period_label"])
        .mark_rect(style="band")
        .encode(x=x)
    )
    bars = base.mark_bar().encode(
        x=x,
        xOffset=alt.XOffset("flow_label:N", sort=flows),
        y=alt.Y("value:Q", title=f"Value ({unit})"),
        color=alt.Color("flow_label:N", sort=flows, title=None, legend=alt.Legend(orient="top")),
        opacity=alt.condition("datum.partial", alt.value(0.6), alt.value(1.0)),
    )
    # Partial-period bars also get a dashed outline in the text colour.
    outline = base.transform_filter("datum.partial").mark_bar(style="outline", filled=False).encode(
        x=x, xOffset=alt.XOffset("flow_label:N", sort=flows), y="value:Q"
    )
    labels = (
        base.transform_calculate(label=_vega_number("value", decimals))
        .mark_text(dy=-4, baseline="bottom", fontSize=10)
        .encode(
            x=x,
            xOffset=alt.XOffset("flow_label:N", sort=flows),
            y="value:Q",
            text="label:N",
        )
    )
    chart = _fit(
        alt.layer(band, bars, outline, labels).properties(height=300),
        alt.Title(
            "Russia–Japan trade, 1998 to first half of 2005",
            subtitle="Russia's exports to and imports from Japan. The 2005 bars cover January–June only.",
        ),
    )

    def value(period_label, flow):
        hit = data[(data["period_label"] == period_label) & (data["flow"] == flow)]
        return _num(hit["value"].iloc[0], decimals)

    full = [p for p, partial in zip(data["period_label"], data["partial"]) if not partial]
    first, last = full[0], full[-1]
    half = [p for p, partial in zip(data["period_label"], data["partial"]) if partial]
    description = (
        f"Grouped bars of Russia's exports to and imports from Japan, {first}–{last} and the first half of 2005, "
        f"in {unit}. Exports rose from {value(first, 'export')} in {first} to {value(last, 'export')} in {last} "
        f"and imports from {value(first, 'import')} to {value(last, 'import')}."
    )
    if half:
        description += (
            f" The 2005 bars ({value(half[0], 'export')} and {value(half[0], 'import')}) "
            "cover the first half of the year only and are not comparable with full years."
        )
    return ChartDef(
        id="trade-1998-2005",
        title="Russia–Japan trade, 1998 to first half of 2005",
        description=description,
        caption=_caption(tables, data, unit, "The 2005 values cover the first half of the year only."),
        resources=("bilateral_trade",),
        unit=unit,
        chart=chart,
        data=data,
    )


def _chart_trade_totals(tables: dict) -> ChartDef:
    trade = tables["bilateral_trade"]
    rows = trade[(trade["flow"] == "total") & trade["value"].notna()]
    data = pd.DataFrame(
        {
            "year": [_year_of(s) for s in rows["period_start"]],
            "period": _text(rows["period"]),
            "period_type": _text(rows["period_type"]),
            "partial": (rows["period_type"] != "year").astype(bool),
            "value": rows["value"].astype(float),
            "unit": _text(rows["unit"]),
            "source_id": _text(rows["source_id"]),
            "source_label": rows["source_id"].map(lambda s: _source_label(tables, s)).astype(str),
            "locator": _text(rows["locator"]),
            "primary_source_id": _text(rows["primary_source_id"]),
        }
    )
    first_year = data.groupby("source_id")["year"].min()
    source_order = sorted(first_year.index, key=lambda s: (first_year[s], s))
    data["_order"] = data["source_id"].map({s: i for i, s in enumerate(source_order)})
    data = (
        data.sort_values(["year", "period", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )

    unit = str(data["unit"].iloc[0])
    decimals = _decimals(data["value"])
    legend_order = [_source_label(tables, s) for s in source_order]
    lo, hi = int(data["year"].min()), int(data["year"].max())
    x = alt.X(
        "year:Q",
        title="Year",
        scale=alt.Scale(domain=[lo - 1, hi + 1], nice=False),
        axis=alt.Axis(format="d", values=list(range(lo, hi + 1, 2)), labelAngle=0),
    )
    y = alt.Y("value:Q", title=f"Trade turnover ({unit})")
    # Same explicit domain on both channels so Vega-Lite merges the legends.
    legend = alt.Legend(orient="top")
    color = alt.Color("source_label:N", scale=alt.Scale(domain=legend_order), title=None, legend=legend)
    shape = alt.Shape("source_label:N", scale=alt.Scale(domain=legend_order), title=None, legend=legend)
    base = alt.Chart(data)
    points = base.mark_point(filled=True, size=90, opacity=1).encode(x=x, y=y, color=color, shape=shape)
    # A partial period gets a hollow marker: a background-coloured centre
    # drawn over its point (no encoding of its own, so no extra legend).
    hollow = base.transform_filter("datum.partial").mark_point(
        style="hollow", filled=True, size=28, opacity=1, shape="circle"
    ).encode(x=x, y=y)
    # Value labels: right of the point; where two sources give the same year,
    # the lower value goes right and the higher left so both stay readable.
    labelled = base.transform_joinaggregate(n="count()", top="max(value)", groupby=["year"]).transform_calculate(
        label=_vega_number("value", decimals)
        + " + (datum.partial ? ' (' + replace(datum.period, '-', ' ') + ', first half only)' : '')",
        left="datum.n > 1 && datum.value == datum.top",
    )
    labels_right = (
        labelled.transform_filter("!datum.left")
        .mark_text(fontSize=11, baseline="middle", align="left", dx=9)
        .encode(x=x, y=y, text="label:N")
    )
    labels_left = (
        labelled.transform_filter("datum.left")
        .mark_text(fontSize=11, baseline="middle", align="right", dx=-9)
        .encode(x=x, y=y, text="label:N")
    )
    title = f"Russia–Japan trade turnover in all sources, {lo}–{hi}"
    chart = _fit(
        alt.layer(points, hollow, labels_right, labels_left).properties(height=320),
        alt.Title(
            title,
            subtitle="Each point is a total as printed; where the sources disagree, both values are shown.",
        ),
    )

    whole = data[~data["partial"]]
    conflict_years = [y for y, g in whole.groupby("year", sort=True) if g["value"].nunique() > 1]
    first = whole[whole["source_id"] == source_order[0]]
    part = data[data["partial"]]
    others = whole[(whole["source_id"] != source_order[0]) & ~whole["year"].isin(conflict_years)]
    description = (
        f"Every Russia–Japan trade total in the three sources, {lo}–{hi}, in {unit}, coloured by source: "
        f"the {_source_label(tables, source_order[0])} series rises from {_num(first['value'].iloc[0], decimals)} in "
        f"{first['year'].iloc[0]} to {_num(first['value'].iloc[-1], decimals)} in {first['year'].iloc[-1]}"
    )
    if len(part):
        description += (
            f", with {_num(part['value'].iloc[0], decimals)} for the first half of {part['year'].iloc[0]} only (hollow marker)"
        )
    if len(others):
        description += ", and the later totals are " + " and ".join(
            f"{_num(v, decimals)} ({y}, {_source_label(tables, s)})" for v, y, s in zip(others["value"], others["year"], others["source_id"])
        )
    description += "."
    for year in conflict_years:
        group = whole[whole["year"] == year]
        description += f" For {year} the sources disagree: " + " and ".join(
            f"{_source_cite(tables, s)} gives {_num(v, decimals)}" for s, v in zip(group["source_id"], group["value"])
        ) + ", drawn as separate points."
    return ChartDef(
        id="trade-totals-all-sources",
        title=title,
        description=description,
        caption=_caption(
            tables, data, unit, "The 2005 value covers the first half of the year only. Both 2013 values are as printed."
        ),
        resources=("bilateral_trade",),
        unit=unit,
        chart=chart,
        data=data,
    )


def _chart_far_east(tables: dict) -> ChartDef:
    fe = tables["far_east_trade"]
    regions = tables["regions"]
    names = dict(zip(_text(regions["region_code"]), _text(regions["name"])))
    region_label = [names[str(c)] for c in fe["region_code"]]  # every code resolves (foreign key)
    everything = pd.DataFrame(
        {
            "region_code": _text(fe["region_code"]),
            "region": region_label,
            "region_in_source": _text(fe["region_in_source"]),
            "year": fe["year"].astype("Int64"),
            "flow": _text(fe["flow"]),
            "flow_label": fe["flow"].map(_FLOW_LABELS).astype(str),
            "value": fe["value"].astype("Float64"),
            "unit": _text(fe["unit"]),
            "source_id": _text(fe["source_id"]),
            "locator": _text(fe["locator"]),
            "primary_source_id": _text(fe["primary_source_id"]),
        }
    )
    # Regions ordered by their 1998–2003 trade (largest first), ties by code.
    totals = everything.groupby("region_code")["value"].sum()
    region_order = sorted(totals.index, key=lambda c: (-float(totals[c]), c))
    everything["_order"] = everything["region_code"].map({c: i for i, c in enumerate(region_order)})
    everything = everything.sort_values(["_order", "year", "flow"], kind="stable").drop(columns="_order")
    missing = everything[everything["value"].isna()]
    data = everything[everything["value"].notna()].reset_index(drop=True)
    data["year"] = data["year"].astype(int)
    data["value"] = data["value"].astype(float)

    unit = str(data["unit"].iloc[0])
    flows = [_FLOW_LABELS[f] for f in ("export", "import")]
    label_order = list(dict.fromkeys(data["region"]))
    years = sorted(set(data["year"]))
    title = f"Far Eastern regions' trade with Japan, {years[0]}–{years[-1]}"

    # The chart draws the present values and, where the source prints '—',
    # a small 'n/a' marker (not a bar) so that gaps are not read as zero.
    gaps = missing[["region", "year"]].drop_duplicates().copy()
    gaps["year"] = gaps["year"].astype(int)
    chart_rows = [
        {"kind": "value", "region": r, "year": int(y), "flow_label": f, "value": float(v)}
        for r, y, f, v in zip(data["region"], data["year"], data["flow_label"], data["value"])
    ] + [{"kind": "missing", "region": r, "year": int(y)} for r, y in zip(gaps["region"], gaps["year"])]

    x = alt.X("year:O", title=None, sort=years, axis=alt.Axis(labelAngle=0, labelExpr="'’' + slice(datum.label, 2)"))
    bars = (
        alt.Chart()
        .transform_filter("datum.kind == 'value'")
        .mark_bar()
        .encode(
            x=x,
            xOffset=alt.XOffset("flow_label:N", sort=flows),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color("flow_label:N", sort=flows, title=None, legend=alt.Legend(orient="top")),
        )
    )
    gap_marks = (
        alt.Chart()
        .transform_filter("datum.kind == 'missing'")
        .mark_text(style="note", text="n/a", angle=270, align="left", baseline="middle", dx=3, fontSize=10)
        .encode(x=x, y=alt.datum(0))
    )
    chart = (
        alt.layer(bars, gap_marks, data=alt.Data(values=chart_rows))
        .properties(width=122, height=120)
        .facet(
            facet=alt.Facet("region:N", sort=label_order, title=None, header=alt.Header(labelFontWeight="bold")),
            columns=4,
            spacing={"row": 14, "column": 12},
        )
        .resolve_axis(x="independent")
        .properties(
            title=alt.Title(
                title,
                subtitle="Exports to and imports from Japan by region; 'n/a' marks a cell printed '—' (missing, not zero).",
            )
        )
    )

    decimals = _decimals(data["value"])

    def largest(flow):
        rows = data[data["flow"] == flow]
        row = rows.loc[rows["value"].idxmax()]
        noun = "exports" if flow == "export" else "imports"
        return f"{row['region']}'s {noun} of {_num(row['value'], decimals)} in {row['year']}"

    description = (
        f"Small multiples of exports to and imports from Japan for {len(label_order)} Far Eastern regions, "
        f"{years[0]}–{years[-1]}, in {unit}; the largest values are {largest('export')} and {largest('import')}."
    )
    if len(missing):
        gaps_by_cell = missing.groupby(["year", "region"], sort=False)["flow"].apply(
            lambda f: "exports and imports" if set(f) == {"export", "import"} else f"{f.iloc[0]}s"
        )
        groups: dict[tuple[int, str], list[str]] = {}
        for (year, region), flows_text in gaps_by_cell.items():
            groups.setdefault((int(year), flows_text), []).append(region)
        gap_text = "; ".join(
            f"{flows_text} of {_plural_join(regions_)} in {year}" for (year, flows_text), regions_ in sorted(groups.items())
        )
        description += (
            f" Cells printed '—' in the source ({gap_text}) are missing: they are left out, not drawn as zero."
        )
    return ChartDef(
        id="far-east-by-region",
        title=title,
        description=description,
        caption=_caption(tables, data, unit, "Cells printed '—' in the source are left out (marked n/a)."),
        resources=("far_east_trade", "regions"),
        unit=unit,
        chart=chart,
        data=data,
    )


def _chart_investment(tables: dict) -> ChartDef:
    inv = tables["investment_by_sector"]
    share = tables["investment_mining_share"]
    sectors = ["total", "mining", "manufacturing"]
    inv = inv[inv["value"].notna()]
    part1 = pd.DataFrame(
        {
            "year": inv["year"].astype(int),
            "series": _text(inv["sector"]),
            "series_label": inv["sector"].map(_SECTOR_LABELS).fillna(inv["sector_in_source"]).astype(str),
            "value": inv["value"].astype(float),
            "unit": _text(inv["unit"]),
            "source_id": _text(inv["source_id"]),
            "locator": _text(inv["locator"]),
            "primary_source_id": _text(inv["primary_source_id"]),
            "resource": "investment_by_sector",
        }
    )
    share = share[share["share_of_mining"].notna()]
    part2 = pd.DataFrame(
        {
            "year": share["year"].astype(int),
            "series": "share_of_mining",
            "series_label": "Share of mining (printed)",
            "value": share["share_of_mining"].astype(float),
            "unit": _text(share["unit"]),
            "source_id": _text(share["source_id"]),
            "locator": _text(share["locator"]),
            "primary_source_id": _text(share["primary_source_id"]),
            "resource": "investment_mining_share",
        }
    )
    data = pd.concat([part1, part2], ignore_index=True)
    series_order = sectors + ["share_of_mining"]
    data["_order"] = data["series"].map({s: i for i, s in enumerate(series_order)}).fillna(len(series_order))
    data = data.sort_values(["_order", "series", "year"], kind="stable").drop(columns="_order").reset_index(drop=True)

    money_unit = str(part1["unit"].iloc[0])
    sector_labels = [_SECTOR_LABELS[s] for s in sectors]
    years = sorted(set(data["year"]))
    title = f"Japanese investment in Russia by sector, {years[0]}–{years[-1]}"
    x = alt.X("year:O", sort=years, title="Year", axis=alt.Axis(labelAngle=0))
    base = alt.Chart(data)
    amounts = base.transform_filter("datum.resource == 'investment_by_sector'")
    bars = amounts.mark_bar().encode(
        x=x,
        xOffset=alt.XOffset("series_label:N", sort=sector_labels),
        y=alt.Y("value:Q", title=f"Investment ({money_unit})", axis=alt.Axis(format=",.0f", minExtent=48)),
        color=alt.Color("series_label:N", sort=sector_labels, title=None, legend=alt.Legend(orient="top")),
    )
    top = alt.layer(bars).properties(
        width=WIDTH - 82,
        height=230,
        title=alt.Title("Investment by sector", fontSize=13, anchor="start"),
    )
    shares = base.transform_filter("datum.resource == 'investment_mining_share'")
    y_share = alt.Y(
        "value:Q", title="Mining share (percent)", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(minExtent=48)
    )
    line = shares.mark_line(style="share", point=False).encode(x=x, y=y_share)
    points = shares.mark_point(style="share", filled=True, size=50, opacity=1).encode(x=x, y=y_share)
    share_labels = (
        shares.transform_calculate(label=_vega_number("value", _decimals(part2["value"])) + " + '%'")
        .mark_text(dy=-9, baseline="bottom", fontSize=11)
        .encode(x=x, y=y_share, text="label:N")
    )
    bottom = alt.layer(line, points, share_labels).properties(
        width=WIDTH - 82,
        height=120,
        title=alt.Title("Share of mining in the total, as printed", fontSize=13, anchor="start"),
    )
    chart = alt.vconcat(top, bottom, spacing=18).properties(
        title=alt.Title(
            title,
            subtitle="Manufacturing and mining do not add up to the total: other sectors are not printed.",
        )
    )

    def val(series, year):
        hit = data[(data["series"] == series) & (data["year"] == year)]
        return hit["value"].iloc[0]

    d, ds = _decimals(part1["value"]), _decimals(part2["value"])
    totals = data[data["series"] == "total"]
    peak = totals.loc[totals["value"].idxmax()]
    last = int(totals["year"].max())
    shares_df = data[data["series"] == "share_of_mining"]
    smax = shares_df.loc[shares_df["value"].idxmax()]
    description = (
        f"Japanese investment in Russia, {years[0]}–{years[-1]}, in {money_unit}: the total peaked at "
        f"{_num(peak['value'], d)} in {peak['year']} (mining {_num(val('mining', int(peak['year'])), d)}) and was "
        f"{_num(val('total', last), d)} in {last}, when manufacturing ({_num(val('manufacturing', last), d)}) "
        f"{'exceeded' if val('manufacturing', last) > val('mining', last) else 'trailed'} mining "
        f"({_num(val('mining', last), d)}). The printed share of mining, shown in a second panel, was "
        f"{_pct(smax['value'], ds)} in {smax['year']} and {_pct(val('share_of_mining', last), ds)} in {last}."
    )
    return ChartDef(
        id="investment-by-sector",
        title=title,
        description=description,
        caption=_caption(
            tables, data, f"{money_unit}; share of mining in percent, as printed",
            "Manufacturing and mining do not add up to the total.",
        ),
        resources=("investment_by_sector", "investment_mining_share"),
        unit=money_unit,
        chart=chart,
        data=data,
    )


def _stated_plan_documents(tables: dict) -> int:
    """The number of documents Saito states (fact sa-documents-total)."""
    facts = tables["facts"]
    return int(facts.loc[facts["fact_id"] == "sa-documents-total", "value"].iloc[0])


def _chart_plan_documents(tables: dict) -> ChartDef:
    docs = tables["plan_documents"]
    points = tables["plan_points"]
    names = dict(zip(points["point_number"].astype(int), _text(points["name"])))
    docs = docs[docs["documents"].notna()]
    data = pd.DataFrame(
        {
            "point_number": docs["point_number"].astype(int),
            "point_name": [names.get(int(n), f"Point {int(n)}") for n in docs["point_number"]],
            "documents": docs["documents"].astype(int),
            "unit": "documents",
            "source_id": _text(docs["source_id"]),
            "locator": _text(docs["locator"]),
        }
    )
    data = data.sort_values(["documents", "point_number"], ascending=[False, True], kind="stable")
    data = data.reset_index(drop=True)
    total = int(data["documents"].sum())
    stated = _stated_plan_documents(tables)
    title = "Documents signed in December 2016, by point of the 8-point plan"

    bars = _labelled_bars(
        data,
        key="point_number",
        order=list(data["point_number"]),
        label="'Point ' + datum.point_number + ': ' + datum.point_name",
        value="documents",
        value_label="toString(datum.documents)",
        x_title="Documents signed (count)",
    )
    chart = _fit(
        bars,
        alt.Title(title, subtitle=f"Sorted by count. The eight counts add up to {total}; the source states {stated}."),
    )
    top, rest = data.iloc[0], data.iloc[1:]
    description = (
        f"Horizontal bars of the documents signed at the December 2016 summit under each point of the 8-point plan, "
        f"from most to fewest: point {top['point_number']} ({top['point_name'].lower()}) has {top['documents']}, "
        f"followed by points "
        + _plural_join([f"{n} ({c})" for n, c in zip(rest["point_number"], rest["documents"])])
        + f". The eight counts add up to {total}, against the {stated} documents the source states."
    )
    names_source = f"{_source_cite(tables, str(points['source_id'].iloc[0]))}, {str(points['locator'].iloc[0]).split(' (')[0]}"
    caption = _caption(tables, data, "number of documents", f"The counts add up to {total}, not the {stated} stated.")
    caption = caption.replace(". Unit:", f"; point names from {names_source}. Unit:", 1)
    return ChartDef(
        id="plan-documents",
        title=title,
        description=description,
        caption=caption,
        resources=("plan_documents", "plan_points", "facts"),
        unit="documents",
        chart=chart,
        data=data,
    )


def _chart_jbic(tables: dict) -> ChartDef:
    loans = tables["jbic_loans"]
    loans = loans[loans["amount"].notna()]
    data = pd.DataFrame(
        {
            "loan_id": _text(loans["loan_id"]),
            "agreement_date": _text(loans["agreement_date"]),
            "agreement_date_in_source": _text(loans["agreement_date_in_source"]),
            "recipient": _text(loans["recipient"]),
            "project": _text(loans["project"]),
            "amount": loans["amount"].astype(float),
            "unit": _text(loans["unit"]),
            "source_id": _text(loans["source_id"]),
            "locator": _text(loans["locator"]),
            "primary_source_id": _text(loans["primary_source_id"]),
        }
    )
    data = data.sort_values(["agreement_date", "loan_id"], kind="stable").reset_index(drop=True)
    unit = str(data["unit"].iloc[0])
    years = sorted({_year_of(d) for d in data["agreement_date"]})
    title = f"JBIC loans to Russian recipients, {years[0]}–{years[-1]}"
    bars = _labelled_bars(
        data,
        key="loan_id",
        order=list(data["loan_id"]),
        label="datum.recipient + ', ' + datum.agreement_date_in_source + ': ' + datum.project",
        value="amount",
        value_label="toString(datum.amount)",
        x_title=f"Loan amount ({unit})",
    )
    chart = _fit(bars, alt.Title(title, subtitle="In order of agreement date, earliest at the top; purpose as printed."))
    first, last = data["agreement_date_in_source"].iloc[0], data["agreement_date_in_source"].iloc[-1]
    big = data.loc[data["amount"].idxmax()]
    small = data.loc[data["amount"].idxmin()]
    description = (
        f"Horizontal bars of {len(data)} JBIC loans to Russian recipients in order of agreement date, "
        f"{first} to {last}, in {unit}. The largest is {_num(big['amount'])} to {big['recipient']} "
        f"({big['agreement_date_in_source']}) and the smallest {_num(small['amount'])} to {small['recipient']} "
        f"({small['agreement_date_in_source']}); together they total {_num(round(float(data['amount'].sum()), 6))}."
    )
    return ChartDef(
        id="jbic-loans",
        title=title,
        description=description,
        caption=_caption(tables, data, unit),
        resources=("jbic_loans",),
        unit=unit,
        chart=chart,
        data=data,
    )


_BUILDERS = (
    _chart_trade_1998_2005,
    _chart_trade_totals,
    _chart_far_east,
    _chart_investment,
    _chart_plan_documents,
    _chart_jbic,
)


# --------------------------------------------------------------------------
# Theme, rendering, post-processing
# --------------------------------------------------------------------------


def theme_config(variant: str) -> dict:
    """Vega-Lite config for the 'light' or 'dark' variant (all colours here)."""
    p = _PALETTES[variant]
    first = p["category"][0]
    return {
        "background": p["background"],
        "font": FONT,
        "padding": 8,
        "aria": False,
        "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 300},
        "title": {
            "color": p["text"],
            "subtitleColor": p["muted"],
            "anchor": "start",
            "fontSize": 16,
            "fontWeight": "bold",
            "subtitleFontSize": 12,
            "offset": 10,
        },
        "axis": {
            "labelColor": p["text"],
            "titleColor": p["text"],
            "domainColor": p["axis"],
            "tickColor": p["axis"],
            "gridColor": p["grid"],
            "labelFontSize": 11,
            "titleFontSize": 12,
            "titleFontWeight": "normal",
            "labelLineHeight": 13,
        },
        "legend": {
            "labelColor": p["text"],
            "titleColor": p["text"],
            "labelFontSize": 12,
            "symbolStrokeWidth": 2,
        },
        "header": {"labelColor": p["text"], "titleColor": p["text"], "labelFontSize": 12},
        "range": {"category": list(p["category"])},
        "mark": {"color": first},
        "text": {"color": p["text"]},
        "style": {
            "note": {"fill": p["muted"]},
            "band": {"color": p["band"], "fill": p["band"]},
            "share": {"color": p["category"][1]},
            "single": {"color": first, "fill": first},
            "hollow": {"color": p["background"], "fill": p["background"]},
            "outline": {"color": p["text"], "stroke": p["text"], "strokeDash": [4, 3], "strokeWidth": 1.5},
            "group-title": {"fill": p["text"]},
            "guide-label": {"fill": p["text"]},
            "guide-title": {"fill": p["text"]},
        },
    }


def _spec_json(chart: alt.TopLevelMixin, variant: str) -> str:
    spec = chart.to_dict()
    config = dict(spec.get("config", {}))
    config.update(theme_config(variant))
    spec["config"] = config
    spec.pop("$schema", None)
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, allow_nan=False)


def finish_svg(svg: str, chart_id: str, variant: str, title: str, description: str) -> str:
    """Stable ids, role/aria attributes and root <title>/<desc> for one SVG."""
    prefix = f"{chart_id}-{variant}"
    # vl-convert numbers clip paths with a process-wide counter: renumber
    # them in document order under a chart- and variant-specific prefix.
    ids: dict[str, str] = {}
    for old in re.findall(r'\sid="([^"]+)"', svg):
        ids.setdefault(old, f"{prefix}-{len(ids) + 1}")

    def rename(match: re.Match) -> str:
        old = match.group(2)
        return f"{match.group(1)}{ids.get(old, old)}{match.group(3)}"

    svg = re.sub(r'(\sid=")([^"]+)(")', rename, svg)
    svg = re.sub(r"(url\(#)([^)]+)(\))", rename, svg)
    svg = re.sub(r'(href="#)([^"]+)(")', rename, svg)

    root = re.match(r"\s*(<svg\b[^>]*?)(/?>)", svg)
    if root is None:
        raise ValueError("no root <svg> element")
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    opening = re.sub(r'\s(role|aria-labelledby|aria-label)="[^"]*"', "", root.group(1))
    opening += f' role="img" aria-labelledby="{title_id} {desc_id}">'
    head = f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
    out = opening + head + svg[root.end():]
    if not out.endswith("\n"):
        out += "\n"
    return out


def svg_size(svg: str) -> tuple[int, int]:
    """(width, height) of the root <svg>, for the <img> attributes that reserve its space."""
    root = re.match(r"\s*<svg\b[^>]*>", svg).group(0)
    width, height = (re.search(rf'\s{k}="([0-9.]+)"', root) for k in ("width", "height"))
    return round(float(width.group(1))), round(float(height.group(1)))


def _format_column(series: pd.Series) -> list[str]:
    """Cells as text: NA -> '', floats in shortest exact form ('2.9', '16.0'), ints plain."""
    values = list(series)
    if pd.api.types.is_bool_dtype(series):
        return ["" if _is_missing(v) else ("true" if v else "false") for v in values]
    if pd.api.types.is_float_dtype(series):
        return ["" if _is_missing(v) else repr(float(v)) for v in values]
    if pd.api.types.is_integer_dtype(series):
        return ["" if _is_missing(v) else str(int(v)) for v in values]
    return ["" if _is_missing(v) else str(v) for v in values]


def _table(data: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    columns = [str(c) for c in data.columns]
    cells = [_format_column(data[c]) for c in data.columns]
    return columns, [list(row) for row in zip(*cells)]


def _csv_text(columns: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _write(path: pathlib.Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def render_all(tables: dict[str, pd.DataFrame], out_dir: pathlib.Path) -> list[dict]:
    """Render every chart into ``out_dir``; return their metadata in a fixed order."""
    out_dir = pathlib.Path(out_dir)
    cache, used = out_dir / "svg-cache", set()
    cache.mkdir(parents=True, exist_ok=True)
    results = []
    for build in _BUILDERS:
        chart = build(tables)
        files = {}
        for variant in VARIANTS:
            svg = _to_svg(_spec_json(chart.chart, variant), cache, used)
            name = f"{chart.id}.{variant}.svg"
            _write(out_dir / name, finish_svg(svg, chart.id, variant, chart.title, chart.description))
            files[variant] = name
        size = svg_size(svg)
        columns, rows = _table(chart.data)
        csv_name = f"{chart.id}.csv"
        _write(out_dir / csv_name, _csv_text(columns, rows))
        results.append(
            {
                "id": chart.id,
                "title": chart.title,
                "description": chart.description,
                "caption": chart.caption,
                "resources": list(chart.resources),
                "unit": chart.unit,
                "width": size[0],
                "height": size[1],
                "svg_light": files["light"],
                "svg_dark": files["dark"],
                "csv": csv_name,
                "columns": columns,
                "rows": rows,
            }
        )
    for stale in set(cache.iterdir()) - used:
        stale.unlink()
    return results


def _to_svg(spec: str, cache: pathlib.Path, used: set) -> str:
    """vl-convert's SVG for a Vega-Lite spec, cached by the spec's and vl-convert's hash: the
    conversion is most of a chart's cost, and in `make serve` most edits change no chart."""
    key = hashlib.sha256(f"vl-convert {vlc.__version__}\n{spec}".encode("utf-8")).hexdigest()
    path = cache / f"{key}.svg"
    used.add(path)
    if path.exists():
        return path.read_text(encoding="utf-8")
    svg = vlc.vegalite_to_svg(spec)
    _write(path, svg)
    return svg
