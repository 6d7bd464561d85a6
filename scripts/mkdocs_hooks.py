"""MkDocs hooks for `make serve` only (the production build runs none; Zensical runs none).

Before every rebuild, re-run the pipeline (it reuses what did not change); after it, copy the
released downloads into the served site. A problem in the data stops that rebuild with the
pipeline's report; the server keeps running, and fixing the file rebuilds.
"""
from __future__ import annotations

from mkdocs.exceptions import PluginError

from scripts import live
from scripts.problems import PipelineError, internal_error


def on_pre_build(config):
    if not live.active():
        return
    try:
        live.regenerate()
    except PipelineError as e:
        raise PluginError(e.report()) from None
    except Exception as exc:  # noqa: BLE001 - as the CLI: one problem, the traceback in error.log
        raise PluginError(internal_error(exc, live.error_log()).report()) from None


def on_post_build(config):
    live.publish(config["site_dir"])
