//! The bindgen path's declarations: bindgen's output, read back into [`Declarations`], so that
//! the one writer of `functions.rs` (`output.rs`) writes them as it writes the C-compiler path's.

use crate::declarations::{Declarations, Function, Type, PRIMITIVES};

/// Reads bindgen's unformatted output (tokens separated by spaces) into [`Declarations`]: type
/// aliases, opaque structs and one `extern "C"` block. Anything else is an error, never skipped.
pub(crate) fn declarations(bindings: &str) -> Result<Declarations, String> {
    let code: Vec<&str> = bindings
        .lines()
        .filter(|line| !line.starts_with("/*"))
        .collect();
    let code = code.join(" ");
    let mut tokens = Tokens {
        tokens: tokenize(&code),
        at: 0,
    };
    let mut declarations = Declarations::default();
    while !tokens.done() {
        if tokens.eat(&["pub", "type"]) {
            let name = tokens.ident()?;
            tokens.expect(&["="])?;
            let ty = tokens.ty()?;
            tokens.expect(&[";"])?;
            declarations.aliases.insert(name, ty);
        } else if tokens.eat(&["#", "[", "repr", "(", "C", ")", "]"]) {
            tokens.expect(&[
                "#", "[", "derive", "(", "Debug", ",", "Copy", ",", "Clone", ")", "]",
            ])?;
            tokens.expect(&["pub", "struct"])?;
            let name = tokens.ident()?;
            // A struct only declared (`_unused: [u8; 0]`), or one with fields (FreeBSD's
            // `shm_largepage_conf`), whose fields are not exported: opaque either way, used behind
            // pointers only (`Declarations::check`).
            tokens.expect(&["{"])?;
            tokens.skip_to_closing_brace()?;
            declarations.opaque.insert(name);
        } else if tokens.eat(&["extern", "\"C\"", "{"]) {
            while !tokens.eat(&["}"]) {
                let (name, function) = tokens.function()?;
                declarations.add_function(name, function);
            }
        } else {
            return Err(tokens.unexpected());
        }
    }
    Ok(declarations)
}

/// Splits Rust code into tokens: words, string literals, `::`, `->`, `...` and single punctuation.
fn tokenize(code: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = code.trim_start();
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        } else if c == '"' {
            // No string bindgen writes here holds a `"` (no doc comments are generated).
            rest[1..].find('"').map_or(rest.len(), |end| end + 2)
        } else if ["::", "->", "..."].iter().any(|p| rest.starts_with(p)) {
            if rest.starts_with("...") {
                3
            } else {
                2
            }
        } else {
            c.len_utf8()
        };
        tokens.push(&rest[..len]);
        rest = rest[len..].trim_start();
    }
    tokens
}

/// bindgen's output, token by token.
struct Tokens<'a> {
    tokens: Vec<&'a str>,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn peek(&self) -> Option<&'a str> {
        self.tokens.get(self.at).copied()
    }

    /// Takes `expected` if the next tokens are exactly these.
    fn eat(&mut self, expected: &[&str]) -> bool {
        let matches = self.tokens.get(self.at..self.at + expected.len()) == Some(expected);
        if matches {
            self.at += expected.len();
        }
        matches
    }

    fn expect(&mut self, expected: &[&str]) -> Result<(), String> {
        if self.eat(expected) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> String {
        let near = &self.tokens[self.at.saturating_sub(4)..(self.at + 8).min(self.tokens.len())];
        format!(
            "bindgen declared something mmap-sys cannot translate, at `{}` in `{}`",
            self.peek().unwrap_or("the end"),
            near.join(" ")
        )
    }

    /// Skips the tokens up to the `}` that closes a `{` just taken, and that `}`.
    fn skip_to_closing_brace(&mut self) -> Result<(), String> {
        let mut depth = 1;
        while depth > 0 {
            match self.peek() {
                Some("{") => depth += 1,
                Some("}") => depth -= 1,
                Some(_) => {}
                None => return Err(self.unexpected()),
            }
            self.at += 1;
        }
        Ok(())
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(word) if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                self.at += 1;
                Ok(word.to_owned())
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `* mut T`, `* const T`, `:: core :: ffi :: c_int`, `usize`, or an alias's name.
    fn ty(&mut self) -> Result<Type, String> {
        if self.eat(&["*", "mut"]) {
            return Ok(Type::Pointer {
                mutable: true,
                to: Box::new(self.ty()?),
            });
        }
        if self.eat(&["*", "const"]) {
            return Ok(Type::Pointer {
                mutable: false,
                to: Box::new(self.ty()?),
            });
        }
        if self.eat(&["::", "core", "::", "ffi", "::", "c_void"]) {
            return Ok(Type::Void);
        }
        if self.eat(&["::", "core", "::", "ffi", "::"]) {
            return Ok(Type::Primitive(self.ident()?));
        }
        if matches!(
            self.peek(),
            Some("f32" | "f64" | "i128" | "u128" | "char" | "str")
        ) {
            return Err(self.unexpected());
        }
        let name = self.ident()?;
        Ok(if PRIMITIVES.contains(&name.as_str()) {
            Type::Primitive(name)
        } else {
            Type::Named(name)
        })
    }

    /// `[# [link_name = "\u{1}sym"]] pub fn name (a : T , ...) [-> T] ;`
    fn function(&mut self) -> Result<(String, Function), String> {
        let mut link_name = None;
        if self.eat(&["#", "[", "link_name", "="]) {
            let label = self
                .peek()
                .and_then(|t| t.strip_prefix("\"\\u{1}")?.strip_suffix('"'));
            link_name = Some(label.ok_or_else(|| self.unexpected())?.to_owned());
            self.at += 1;
            self.expect(&["]"])?;
        }
        self.expect(&["pub", "fn"])?;
        let name = self.ident()?;
        self.expect(&["("])?;
        let mut function = Function {
            link_name,
            params: Vec::new(),
            variadic: false,
            returns: None,
        };
        while !self.eat(&[")"]) {
            if self.eat(&["..."]) {
                function.variadic = true;
                continue;
            }
            let param = self.ident()?;
            self.expect(&[":"])?;
            function.params.push((param, self.ty()?));
            if !self.eat(&[","]) && self.peek() != Some(")") {
                return Err(self.unexpected());
            }
        }
        if self.eat(&["->"]) {
            function.returns = Some(self.ty()?);
        }
        self.expect(&[";"])?;
        Ok((name, function))
    }
}
