//! Diacritic-insensitive search for Vietnamese: "nguyen van duc" finds "Nguyễn Văn Đức".

use unicode_normalization::UnicodeNormalization;

/// Lower-case, without diacritics (`đ` → `d`), with runs of white space folded to one space.
/// The same function builds stored keys and normalises queries, so both sides always agree.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            c if unicode_normalization::char::is_combining_mark(c) => continue,
            c => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        out.extend(c.to_lowercase());
        last_space = false;
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A search key from several parts, separated so a match cannot span two of them.
pub fn key<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts
        .into_iter()
        .map(fold)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A user's query made safe for `LIKE '%…%'`: folded, with LIKE's wildcards taken literally.
pub fn like_pattern(query: &str) -> String {
    let folded = fold(query);
    let escaped: String = folded
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_names_fold_to_plain_ascii() {
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("  TRẦN   thị  Ánh Hồng "), "tran thi anh hong");
        assert_eq!(fold("Thôn Phú Lộc, xóm Đông"), "thon phu loc, xom dong");
        assert_eq!(fold("Ưng Ơn Ỷ"), "ung on y");
    }

    #[test]
    fn precomposed_and_decomposed_input_agree() {
        let decomposed = "Nguye\u{0302}\u{0303}n";
        assert_eq!(fold(decomposed), fold("Nguyễn"));
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("Đức"), "%duc%");
    }
}
