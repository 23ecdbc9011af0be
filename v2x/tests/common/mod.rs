//! Helpers shared by the integration tests: data paths, hex, a small XER reader.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Test helpers: a failure should panic.

pub use pitsense_testkit::data_root;
use std::path::PathBuf;

/// `shared/data/v2x/j2735/<relative>`.
pub fn j2735_path(relative: &str) -> PathBuf {
    data_root().join("v2x/j2735").join(relative)
}

/// Hex text (whitespace allowed) to bytes.
pub fn hex_to_bytes(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex");
    digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
}

/// The first child element named `name`.
pub fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|child| child.is_element() && child.tag_name().name() == name)
}

/// Element children named `name`.
pub fn children<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> + 'a {
    node.children().filter(move |child| child.is_element() && child.tag_name().name() == name)
}

/// Follows a `/`-separated path of child element names.
pub fn path<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    path: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    path.split('/').try_fold(node, |node, name| child(node, name))
}

/// Trimmed text of the element at `path`, with inner whitespace removed.
pub fn text(node: roxmltree::Node, at: &str) -> Option<String> {
    path(node, at).map(|node| node.text().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect())
}

/// Integer at `path`.
pub fn int(node: roxmltree::Node, at: &str) -> Option<i64> {
    text(node, at).map(|text| text.parse().unwrap_or_else(|_| panic!("{at}: {text} is not an integer")))
}

/// Name of the single child element at `path` (XER writes ENUMERATED and CHOICE so).
pub fn enum_name(node: roxmltree::Node, at: &str) -> Option<String> {
    path(node, at)
        .and_then(|node| node.children().find(|child| child.is_element()))
        .map(|child| child.tag_name().name().to_owned())
}
