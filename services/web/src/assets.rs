//! The files the pages load, compiled into the binary: nothing is fetched at run time and the
//! target needs no files next to it. `uplot.*` is uPlot 1.6.32 from npm (`npm pack uplot@1.6.32`,
//! `dist/uPlot.iife.min.js` and `dist/uPlot.min.css`, MIT licence in `uplot.LICENSE`);
//! `charts.js`, `live.js` and `web.css` are ours.

/// `(content type, bytes)` of an asset by file name.
pub fn get(file: &str) -> Option<(&'static str, &'static [u8])> {
    let found: (&str, &[u8]) = match file {
        "web.css" => ("text/css; charset=utf-8", include_bytes!("../assets/web.css")),
        "live.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/live.js")),
        "charts.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/charts.js")),
        "uplot.iife.min.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../assets/uplot.iife.min.js"),
        ),
        "uplot.min.css" => ("text/css; charset=utf-8", include_bytes!("../assets/uplot.min.css")),
        "uplot.LICENSE" => ("text/plain; charset=utf-8", include_bytes!("../assets/uplot.LICENSE")),
        _ => return None,
    };
    Some(found)
}
