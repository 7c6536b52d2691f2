//! Which macros are constants, by one rule for both paths: a macro of an exported family is a
//! constant when its definition is an integer expression the preprocessor can evaluate, that is
//! numbers, operators and parentheses, other such macros, and calls of function-like macros whose
//! expansion is one (FreeBSD's `#define MAP_ALIGNED_SUPER MAP_ALIGNED(1)`, with
//! `#define MAP_ALIGNED(n) ((n) << MAP_ALIGNMENT_SHIFT)`). `MAP_FAILED`, `((void *) -1)`, is not.
//!
//! The C-compiler path reads the definitions from `-dM`; the bindgen path from libclang, as it
//! parses the headers. Either gives each definition as the text after `#define `.

use std::collections::{BTreeMap, BTreeSet};

use crate::families::family_of;

/// The macros the headers define, each with its last definition.
#[derive(Debug, Default)]
pub(crate) struct Macros {
    /// `NAME body`: the body of each object-like macro.
    object: BTreeMap<String, String>,
    /// `NAME(a, b) body`: the parameters and the body of each function-like macro.
    function: BTreeMap<String, (Vec<String>, String)>,
}

impl Macros {
    /// Takes one definition, the text after `#define ` (`NAME body` or `NAME(a, b) body`): a name
    /// followed at once by `(` is a function-like macro's. A later definition of a name replaces
    /// an earlier one, as `#undef` and `#define` again do.
    pub(crate) fn define(&mut self, definition: &str) {
        let end = definition
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(definition.len());
        let (name, rest) = definition.split_at(end);
        if name.is_empty() {
            return;
        }
        self.object.remove(name);
        self.function.remove(name);
        if let Some(rest) = rest.strip_prefix('(') {
            let Some((params, body)) = rest.split_once(')') else {
                return;
            };
            let params = if params.trim().is_empty() {
                Vec::new()
            } else {
                params.split(',').map(|p| p.trim().to_owned()).collect()
            };
            self.function
                .insert(name.to_owned(), (params, body.trim().to_owned()));
        } else {
            self.object.insert(name.to_owned(), rest.trim().to_owned());
        }
    }

    /// The object-like macros of the exported families whose definition is an integer expression.
    pub(crate) fn constants(&self) -> BTreeSet<String> {
        self.object
            .keys()
            .filter(|name| family_of(name).is_some())
            .filter(|name| self.is_integer(name, &mut BTreeSet::new()))
            .cloned()
            .collect()
    }

    /// Whether the object-like macro `name` expands to an integer expression. `expanding` holds the
    /// macros being expanded: a macro inside its own expansion is not expanded again (C's rule),
    /// and is then an unknown name.
    fn is_integer(&self, name: &str, expanding: &mut BTreeSet<String>) -> bool {
        let Some(body) = self.object.get(name) else {
            return false;
        };
        self.expands_within(name, body, expanding)
    }

    /// Whether `text`, the expansion of macro `name`, is an integer expression.
    fn expands_within(&self, name: &str, text: &str, expanding: &mut BTreeSet<String>) -> bool {
        if !expanding.insert(name.to_owned()) {
            return false;
        }
        let integer = self.is_integer_expression(text, expanding);
        expanding.remove(name);
        integer
    }

    /// Whether `text` is a non-empty integer expression: numbers, operators, parentheses, integer
    /// macros and calls of function-like macros that expand to integer expressions.
    fn is_integer_expression(&self, text: &str, expanding: &mut BTreeSet<String>) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let len = if c.is_ascii_digit() {
                rest.find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len())
            } else if c.is_ascii_alphabetic() || c == '_' {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                let after = &rest[end..];
                if let Some((params, body)) = self
                    .function
                    .get(name)
                    .filter(|_| after.trim_start().starts_with('('))
                {
                    let Some((args, len)) = call_arguments(after) else {
                        return false;
                    };
                    // The preprocessor expands each argument before it substitutes it: one that is
                    // an integer expression stands in the body as any number would.
                    if args.len() != params.len()
                        || !args
                            .iter()
                            .all(|arg| self.is_integer_expression(arg, expanding))
                    {
                        return false;
                    }
                    let expansion = substitute(body, params, "0");
                    if !self.expands_within(name, &expansion, expanding) {
                        return false;
                    }
                    end + len
                } else if self.is_integer(name, expanding) {
                    end
                } else {
                    return false;
                }
            } else if c.is_whitespace() || "()+-*/%<>&|^~!".contains(c) {
                c.len_utf8()
            } else {
                return false;
            };
            rest = &rest[len..];
        }
        true
    }
}

/// The arguments of a call whose text, from the `(` on (spaces before it allowed), is `after` (none
/// for `()`), and the length of the call's text: `None` where the parentheses do not close.
fn call_arguments(after: &str) -> Option<(Vec<&str>, usize)> {
    let open = after.find('(')?;
    let mut depth = 0;
    let mut args = Vec::new();
    let mut start = open + 1;
    for (at, c) in after.char_indices().filter(|&(at, _)| at >= open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let last = after[start..at].trim();
                    if !(args.is_empty() && last.is_empty()) {
                        args.push(last);
                    }
                    return Some((args, at + 1));
                }
            }
            ',' if depth == 1 => {
                args.push(after[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    None
}

/// `body` with each parameter, as a whole word, replaced by `number`.
fn substitute(body: &str, params: &[String], number: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        let word = &rest[..len];
        if params.iter().any(|p| p == word) {
            out.push_str(number);
        } else {
            out.push_str(word);
        }
        rest = &rest[len..];
    }
    out
}
