//! The part of a generated document that its maintainers write: the section between
//! `<!-- analysis -->` and `<!-- /analysis -->`, kept from the previous file when the rest is
//! generated anew.

const START: &str = "<!-- analysis -->";
const END: &str = "<!-- /analysis -->";

/// The section of a document that has no analysis yet.
pub const PLACEHOLDER: &str = "<!-- analysis -->\n(No analysis yet.)\n<!-- /analysis -->";

/// The analysis section of an earlier document, markers included.
pub fn kept(previous: &str) -> Option<&str> {
    let start = previous.find(START)?;
    let end = previous[start..].find(END)? + start + END.len();
    Some(&previous[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_section_between_its_markers() {
        let previous = "old tables\n<!-- analysis -->\nWhy.\n<!-- /analysis -->\ntail";
        assert_eq!(
            kept(previous),
            Some("<!-- analysis -->\nWhy.\n<!-- /analysis -->")
        );
        assert_eq!(kept("no markers"), None);
        assert_eq!(kept("<!-- analysis --> never closed"), None);
        assert_eq!(kept(PLACEHOLDER), Some(PLACEHOLDER));
    }
}
