//! The page's files, embedded in the binary.

/// `(path, content type, content)` of every file the page needs.
pub(crate) const FILES: [(&str, &str, &str); 5] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../assets/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "inspector.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/inspector.js"),
    ),
    (
        "tree.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/tree.js"),
    ),
];

/// The embedded file at `name`.
pub(crate) fn find(name: &str) -> Option<(&'static str, &'static str)> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ty, body)| (*ty, *body))
}
