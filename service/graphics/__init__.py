"""Graphics feeds for broadcast systems and the flag images they show.

`api.py` (the routes) → `rows.py` (flat rows built from the public results view: one per
entry, or one for the step on air) → `formats.py` (the same rows as JSON, XML or CSV);
`names.py` gives country names per language, `flags.py` serves `flags/*.svg|png`. The
feeds read only what `ResultsReader.views` shows the public, so they follow the same
results visibility; `core/http_cache.py` gives them their ETag and Cache-Control.
"""
