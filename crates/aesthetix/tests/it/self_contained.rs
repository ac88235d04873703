//! A clone passes its own tests with nothing beside it (issue 20): no test, benchmark, fuzz
//! target or build script names a file outside the repository. What they read lives in
//! `testdata/`, reached through one helper per crate (see `testdata/README.md`).
//!
//! The guard reads every `.rs` file and `Cargo.toml` under `crates/` and `fuzz/` and looks at
//! their string literals (comments are prose and skipped). A literal fails when it names the
//! corpora's old home beside the repository (`../shared`, `shared/testdata`,
//! `shared/reference`), or when it is a relative path that climbs out of the repository:
//! resolved against the file's own folder inside `include_str!`, `include_bytes!`, `include!`
//! and in a `Cargo.toml`, and against the crate's folder anywhere else (where
//! `CARGO_MANIFEST_DIR` points, and where `cargo test` and `cargo bench` run).

use std::path::{Path, PathBuf};

/// One string literal of a source file.
#[derive(Debug)]
struct Literal {
    line: usize,
    text: String,
    /// The first argument of `include_str!`/`include_bytes!`/`include!`: relative to the file.
    included: bool,
}

/// The string literals of Rust source, outside comments: plain, byte and raw strings (`r#"…"#`),
/// with char literals (`'"'`) and lifetimes told apart.
fn rust_literals(source: &str) -> Vec<Literal> {
    let s: Vec<char> = source.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    // The code outside comments and literals so far, to see which macro a literal is given to.
    let mut code = String::new();
    let (mut i, mut line) = (0, 1);
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(s[i] == '\n');
                    i += 1;
                }
            }
            continue;
        }
        // A raw string: `r`, `br` or `cr` (not ending an identifier), hashes, a quote.
        let raw_start = c == 'r'
            && (i == 0
                || !ident(s[i - 1])
                || ((s[i - 1] == 'b' || s[i - 1] == 'c') && (i == 1 || !ident(s[i - 2]))));
        if raw_start {
            let hashes = s[i + 1..].iter().take_while(|&&h| h == '#').count();
            if s.get(i + 1 + hashes) == Some(&'"') {
                let start = i + 2 + hashes;
                let mut end = start;
                while end < s.len()
                    && !(s[end] == '"' && s[end + 1..].iter().take(hashes).all(|&h| h == '#'))
                {
                    end += 1;
                }
                let text = s[start..end.min(s.len())].iter().collect();
                line += found(&mut out, &mut code, line, text);
                i = end + 1 + hashes;
                continue;
            }
        }
        if c == '"' {
            let mut end = i + 1;
            while end < s.len() && s[end] != '"' {
                end += if s[end] == '\\' { 2 } else { 1 };
            }
            let text = s[i + 1..end.min(s.len())].iter().collect();
            line += found(&mut out, &mut code, line, text);
            i = end + 1;
            continue;
        }
        if c == '\'' {
            // `'\''`, `'\u{1F600}'`, `'"'` are chars; `'a` and `'static` are lifetimes.
            if next == Some('\\') {
                let close = s
                    .get(i + 3..)
                    .and_then(|r| r.iter().position(|&q| q == '\''));
                i += 4 + close.unwrap_or(0);
                continue;
            }
            if s.get(i + 2) == Some(&'\'') {
                i += 3;
                continue;
            }
        }
        line += usize::from(c == '\n');
        code.push(c);
        i += 1;
    }
    out
}

/// Records a literal that starts on `line` after `code`, standing in the code as `""`; how
/// many lines it spans.
fn found(out: &mut Vec<Literal>, code: &mut String, line: usize, text: String) -> usize {
    let spans = text.matches('\n').count();
    out.push(Literal {
        line,
        included: given_to_include(code),
        text,
    });
    code.push_str("\"\"");
    spans
}

/// Whether the code just before a literal opens `include_str!(`, `include_bytes!(` or
/// `include!(`.
fn given_to_include(code_before: &str) -> bool {
    code_before
        .trim_end()
        .strip_suffix('(')
        .map(str::trim_end)
        .is_some_and(|m| {
            ["include_str!", "include_bytes!", "include!"]
                .iter()
                .any(|name| m.ends_with(name))
        })
}

/// The string values of a `Cargo.toml`, outside `#` comments (all relative to its folder).
fn toml_literals(source: &str) -> Vec<Literal> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find(['"', '#']) {
            if rest[open..].starts_with('#') {
                break;
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find('"') else { break };
            out.push(Literal {
                line: n + 1,
                text: after[..close].to_owned(),
                included: true,
            });
            rest = &after[close + 1..];
        }
    }
    out
}

/// Why `text`, resolved against a folder `depth` levels below the repository's root, names a
/// file outside the repository; `None` when it does not.
fn outside(text: &str, depth: usize) -> Option<&'static str> {
    // Assembled, so that this file does not hold what it looks for.
    let old_homes = [
        ["..", "shared"],
        ["shared", "testdata"],
        ["shared", "reference"],
    ];
    if old_homes.iter().any(|old| text.contains(&old.join("/"))) {
        return Some("names the corpora's old home beside the repository (shared/)");
    }
    // What comes before the first `..` is a prefix (often `{}` for CARGO_MANIFEST_DIR) or a
    // folder below the base; counting from the `..` alone can only climb higher.
    let start = text.find("../")?;
    let mut level = depth as isize;
    for segment in text[start..].split('/') {
        match segment {
            ".." => level -= 1,
            "" | "." => {}
            _ => level += 1,
        }
        if level < 0 {
            return Some("climbs out of the repository");
        }
    }
    None
}

/// The repository's root (the workspace's `Cargo.toml` is there).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/aesthetix sits two folders below the repository's root")
        .to_path_buf()
}

fn depth(root: &Path, dir: &Path) -> usize {
    dir.strip_prefix(root)
        .expect("inside the repository")
        .components()
        .count()
}

/// Every `.rs` file and `Cargo.toml` below `dir`, build output and hidden folders left out.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") || name == "Cargo.toml" {
            out.push(path);
        }
    }
}

/// The literals of `file` that name a file outside the repository, as `path:line: why: text`.
/// `relative`: how many literals with a relative path were resolved.
fn violations(root: &Path, file: &Path, source: &str, relative: &mut usize) -> Vec<String> {
    let dir = file.parent().unwrap();
    let crate_dir = dir
        .ancestors()
        .find(|d| d.join("Cargo.toml").is_file())
        .expect("a file of a package");
    let toml = file.extension().is_some_and(|e| e == "toml");
    let literals = if toml {
        toml_literals(source)
    } else {
        rust_literals(source)
    };
    let mut found = Vec::new();
    for lit in literals {
        let base = if lit.included { dir } else { crate_dir };
        *relative += usize::from(lit.text.contains("../"));
        if let Some(why) = outside(&lit.text, depth(root, base)) {
            found.push(format!(
                "{}:{}: {why}: \"{}\"",
                file.strip_prefix(root).unwrap().display(),
                lit.line,
                lit.text
            ));
        }
    }
    found
}

#[test]
fn no_test_bench_or_build_script_reads_outside_the_repository() {
    let root = root();
    let mut files = vec![root.join("Cargo.toml")];
    sources(&root.join("crates"), &mut files);
    sources(&root.join("fuzz"), &mut files);
    let scanned = |part: &str| files.iter().any(|f| f.ends_with(part));
    // The scan really covers the tree: this file, each crate's corpus helper, a benchmark,
    // the fuzz target and the migrations' `include_str!`s.
    for part in [
        "crates/aesthetix/tests/it/self_contained.rs",
        "crates/aesthetix/tests/it/support.rs",
        "crates/domain/src/value/tests.rs",
        "crates/tabular/src/tests.rs",
        "crates/tabular/benches/throughput.rs",
        "fuzz/fuzz_targets/read.rs",
        "crates/store/src/migrate.rs",
    ] {
        assert!(scanned(part), "{part} was not scanned");
    }
    assert!(files.len() > 100, "only {} files scanned", files.len());

    let mut relative = 0;
    let mut found = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        found.extend(violations(&root, file, &source, &mut relative));
    }
    // The migrations are included relative to `crates/store/src`, fuzz/Cargo.toml names
    // `../crates/tabular`: relative paths that stay inside were resolved, not skipped.
    assert!(relative >= 10, "only {relative} relative paths resolved");
    assert!(
        found.is_empty(),
        "paths outside the repository (copy the file into testdata/ and read it through the \
         crate's `testdata` helper):\n{}",
        found.join("\n")
    );
}

/// The guard fails on what it guards against. Its samples are assembled at run time, so this
/// file holds none of them.
#[test]
fn the_guard_catches_paths_outside_the_repository() {
    let root = root();
    let store_src = root.join("crates/store/src/lib.rs");
    let up3 = ["..", "..", ".."].join("/");
    let old = ["shared", "testdata", "x.csv"].join("/");
    let check = |source: &str| violations(&root, &store_src, source, &mut 0).len();

    // The corpora's old home, joined to CARGO_MANIFEST_DIR as the tests used to.
    let joined = format!("PathBuf::from(env!(\"CARGO_MANIFEST_DIR\")).join(\"{up3}/{old}\");\n");
    assert_eq!(check(&joined), 1, "{joined}");
    assert_eq!(check(&format!("let p = format!(\"{{}}/{up3}/{old}\");")), 1);
    assert_eq!(check(&format!("let p = r#\"{up3}/{old}\"#;")), 1);
    assert_eq!(check(&format!("let q = '\"'; let p = \"{up3}/{old}\";")), 1);
    // Climbing out without naming it: three levels up from a crate's folder is outside.
    assert_eq!(check(&format!("std::fs::read(\"{up3}/data.csv\")")), 1);
    // `../shared` is caught even where it would resolve inside.
    assert_eq!(
        check(&format!(
            "std::fs::read(\"{}\")",
            ["..", old.as_str()].join("/")
        )),
        1
    );

    // Inside: the same climb from `crates/store/src` in `include_str!` is the repository's root;
    // comments are prose.
    assert_eq!(
        check(&format!("include_str!(\"{up3}/migrations/x.sql\")")),
        0
    );
    assert_eq!(
        check(&format!(
            "// once read from {up3}/{old}\n/* and {up3}/{old} */"
        )),
        0
    );
    assert_eq!(
        check("let up = \"../x.csv\"; let s = 'a'; fn f<'a>(x: &'a str) {}"),
        0
    );
    assert_eq!(
        violations(
            &root,
            &root.join("fuzz/Cargo.toml"),
            &format!("# was {up3}/{old}\ntabular = {{ path = \"../crates/tabular\" }}\n"),
            &mut 0
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(
            &root,
            &root.join("fuzz/Cargo.toml"),
            &format!("x = {{ path = \"{up3}/x\" }}"),
            &mut 0
        )
        .len(),
        1
    );
}
