//! The C-compiler path's declarations, without libclang: the preprocessed `wrapper.h` is read as C.
//!
//! Its line markers (`# 42 "/usr/include/sys/mman.h"`) say which header each declaration comes
//! from. Every function and `typedef` declared in a memory-mapping header is translated, with the
//! `typedef`s and `struct`s it uses, by bindgen's rules (see `declarations.rs`): a `typedef` keeps
//! its name and becomes an alias of what it names, down to C's own integer types, which map to
//! `core::ffi`'s. The subset of C read is the one such headers use: integer types, `void`,
//! pointers, `typedef` names, `struct`s only declared, `...`, `__asm__` labels; attributes are
//! dropped. Anything else a memory-mapping header declares (a variable, a function pointer, a
//! `struct` with fields, a floating-point type) is a build error naming it, never a guess.

use std::collections::BTreeMap;

use crate::declarations::{is_mman_file, rust_ident, Declarations, Function, Type};

/// A token of the preprocessed source, with the header it comes from.
#[derive(Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    file: &'a str,
}

/// One top-level declaration: its tokens, without attributes, and what was taken out of them.
struct Declaration<'a> {
    file: &'a str,
    tokens: Vec<&'a str>,
    typedef: bool,
    is_static: bool,
    asm_label: Option<String>,
}

/// The declarations of the memory-mapping headers in `preprocessed` (`cc -E` output).
pub(crate) fn declarations(preprocessed: &str) -> Result<Declarations, String> {
    let all: Vec<Declaration<'_>> = split(&tokenize(preprocessed))
        .into_iter()
        .map(clean)
        .collect();
    let mut typedefs: BTreeMap<&str, &Declaration<'_>> = BTreeMap::new();
    for declaration in &all {
        if declaration.typedef {
            if let Some(name) = declared_name(&declaration.tokens) {
                typedefs.insert(name, declaration);
            }
        }
    }

    let mut out = Declarations::default();
    let mut needed: Vec<String> = Vec::new();
    for declaration in all.iter().filter(|d| is_mman_file(d.file)) {
        let what = || format!("`{}` ({})", declaration.tokens.join(" "), declaration.file);
        if declaration.typedef {
            let name = declared_name(&declaration.tokens)
                .ok_or_else(|| format!("cannot read the typedef {}", what()))?;
            if bindgen_primitive(name).is_none() {
                needed.push(name.to_owned());
            }
            continue;
        }
        let (specifiers, declarator) = split_specifiers(&declaration.tokens);
        let struct_body = declarator.first() == Some(&"{") && declarator.last() == Some(&"}");
        if declarator.is_empty() || (struct_body && matches!(specifiers, ["struct", _])) {
            // `struct iovec;`: a struct declared here; `struct shm_largepage_conf { ... };` one
            // defined here, whose fields are not exported: opaque either way, as bindgen's are
            // here.
            match specifiers {
                ["struct", name] => {
                    needed.push((*name).to_owned());
                }
                _ => return Err(format!("cannot translate {}", what())),
            }
            continue;
        }
        let parsed = parse(&declaration.tokens).map_err(|e| format!("{e} in {}", what()))?;
        let Some((name, params, variadic)) = parsed.function() else {
            return Err(format!(
                "mmap-sys translates functions and types only, not {}",
                what()
            ));
        };
        if declaration.is_static {
            continue;
        }
        let returns = parsed
            .rust_type(true)
            .map_err(|e| format!("{e} in {}", what()))?;
        let mut unnamed = 0;
        let mut rust_params = Vec::new();
        for param in params {
            let ty = param
                .rust_type(false)
                .map_err(|e| format!("{e} in {}", what()))?;
            let ty = ty.ok_or_else(|| format!("a `void` parameter among others in {}", what()))?;
            let name = match &param.name {
                Some(name) => rust_ident(name),
                None => {
                    unnamed += 1;
                    format!("arg{unnamed}")
                }
            };
            rust_params.push((name, ty));
        }
        let function = Function {
            // A label that is the symbol the name has anyway (Darwin's `__DARWIN_ALIAS(mmap)` is
            // `_mmap` on arm64) is no link name, as bindgen has it.
            link_name: declaration
                .asm_label
                .clone()
                .filter(|label| *label != default_symbol(name)),
            params: rust_params,
            variadic: *variadic,
            returns,
        };
        out.add_function(name.to_owned(), function);
    }
    for function in out.functions.values() {
        let types = function
            .params
            .iter()
            .map(|(_, ty)| ty)
            .chain(&function.returns);
        needed.extend(types.filter_map(named).map(str::to_owned));
    }

    // The named types used, down to C's own types.
    while let Some(name) = needed.pop() {
        if out.aliases.contains_key(&name) || out.opaque.contains(&name) {
            continue;
        }
        if let Some(typedef) = typedefs.get(name.as_str()) {
            let what = || {
                format!(
                    "the typedef `{}` ({})",
                    typedef.tokens.join(" "),
                    typedef.file
                )
            };
            let parsed = parse(&typedef.tokens).map_err(|e| format!("{e} in {}", what()))?;
            if parsed.function().is_some() {
                return Err(format!("cannot translate a function type: {}", what()));
            }
            let ty = parsed
                .rust_type(false)
                .map_err(|e| format!("{e} in {}", what()))?;
            let ty = ty.ok_or_else(|| format!("cannot translate a `void` typedef: {}", what()))?;
            needed.extend(named(&ty).map(str::to_owned));
            out.aliases.insert(name, ty);
        } else {
            // A struct defined (its fields are not exported) or only declared: opaque, behind
            // pointers only (`Declarations::check` refuses one passed by value).
            out.opaque.insert(name);
        }
    }
    Ok(out)
}

/// The alias or struct a type ends in, if any.
fn named(ty: &Type) -> Option<&str> {
    match ty {
        Type::Named(name) => Some(name),
        Type::Pointer { to, .. } => named(to),
        Type::Void | Type::Primitive(_) => None,
    }
}

/// Tokens of the preprocessed source, each with the header that its line marker names.
fn tokenize(source: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut file = "";
    for line in source.lines() {
        let trimmed = line.trim_start();
        if let Some(marker) = trimmed.strip_prefix('#') {
            // `# 42 "file" 3 4`; other directives (`#pragma`) hold no declaration.
            if let Some((_, rest)) = marker.split_once('"') {
                file = rest.rsplit_once('"').map_or(rest, |(name, _)| name);
            }
            continue;
        }
        let mut rest = trimmed;
        while let Some(c) = rest.chars().next() {
            let len = if c.is_ascii_alphanumeric() || c == '_' {
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                    .unwrap_or(rest.len())
            } else if c == '"' || c == '\'' {
                literal_len(rest, c)
            } else if rest.starts_with("...") {
                3
            } else {
                c.len_utf8()
            };
            tokens.push(Token {
                text: &rest[..len],
                file,
            });
            rest = rest[len..].trim_start();
        }
    }
    tokens
}

/// The length of the string or character literal at the start of `rest`.
fn literal_len(rest: &str, quote: char) -> usize {
    let mut escaped = false;
    for (at, c) in rest.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            _ if c == quote => return at + 1,
            _ => {}
        }
    }
    rest.len()
}

/// Top-level declarations: up to each `;` outside brackets. A function's body ends its definition,
/// which declares nothing bindgen keeps (inline functions), and is dropped.
fn split<'a>(tokens: &[Token<'a>]) -> Vec<Vec<Token<'a>>> {
    let mut declarations = Vec::new();
    let mut current: Vec<Token<'a>> = Vec::new();
    let mut depth = 0usize;
    let mut in_body = false;
    for &token in tokens {
        match token.text {
            "{" if depth == 0 && current.last().is_some_and(|t| t.text == ")") => in_body = true,
            ";" if depth == 0 => {
                declarations.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        match token.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if in_body {
            if depth == 0 {
                in_body = false;
                current.clear();
            }
            continue;
        }
        current.push(token);
    }
    declarations.into_iter().filter(|d| !d.is_empty()).collect()
}

/// Takes out of a declaration what does not change its type: attributes, storage classes,
/// qualifiers Rust has no use for, and the `__asm__` label (kept).
fn clean<'a>(tokens: Vec<Token<'a>>) -> Declaration<'a> {
    let file = tokens.first().map_or("", |t| t.file);
    let mut declaration = Declaration {
        file,
        tokens: Vec::new(),
        typedef: false,
        is_static: false,
        asm_label: None,
    };
    let mut at = 0;
    while at < tokens.len() {
        let text = tokens[at].text;
        at += 1;
        match text {
            "__attribute__" | "__attribute" | "__asm__" | "__asm" | "asm" => {
                let end = group_end(&tokens, at);
                if text.contains("asm") {
                    let label: String = tokens[at..end]
                        .iter()
                        .filter_map(|t| t.text.strip_prefix('"')?.strip_suffix('"'))
                        .collect();
                    declaration.asm_label = Some(label);
                }
                at = end;
            }
            "typedef" => declaration.typedef = true,
            "static" => declaration.is_static = true,
            "__extension__" | "extern" | "inline" | "__inline" | "__inline__" | "restrict"
            | "__restrict" | "__restrict__" | "volatile" | "__volatile__" | "register"
            | "_Noreturn" => {}
            _ => declaration.tokens.push(text),
        }
    }
    declaration
}

/// The index just past the parenthesized group that starts at `at`.
fn group_end(tokens: &[Token<'_>], at: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(at) {
        match token.text {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ if depth == 0 => return i,
            _ => {}
        }
    }
    tokens.len()
}

const SPECIFIERS: &[&str] = &[
    "const", "signed", "unsigned", "short", "long", "int", "char", "void", "_Bool", "float",
    "double",
];

/// The specifiers (`const unsigned int`, `struct iovec`, `__off64_t`) and the declarator after
/// them.
fn split_specifiers<'t, 'a>(tokens: &'t [&'a str]) -> (&'t [&'a str], &'t [&'a str]) {
    let mut at = 0;
    let mut has_type = false;
    while let Some(&token) = tokens.get(at) {
        if SPECIFIERS.contains(&token) {
            has_type |= token != "const";
            at += 1;
        } else if matches!(token, "struct" | "union" | "enum") {
            has_type = true;
            at += 2;
        } else if !has_type && is_identifier(token) {
            // A typedef name.
            has_type = true;
            at += 1;
        } else {
            break;
        }
    }
    tokens.split_at(at.min(tokens.len()))
}

fn is_identifier(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// The name a declaration declares, if it is simple enough to find. (Of `typedef struct { ... } X`,
/// the last word: such a typedef is found, and its translation then fails with a clear error.)
fn declared_name<'a>(tokens: &[&'a str]) -> Option<&'a str> {
    if tokens.contains(&"{") {
        return tokens.last().copied().filter(|t| is_identifier(t));
    }
    let (_, declarator) = split_specifiers(tokens);
    declarator
        .iter()
        .copied()
        .find(|t| is_identifier(t) && !SPECIFIERS.contains(t))
}

/// A parsed declaration (or parameter): its name, type specifiers, pointers and parameters.
struct Parsed<'a> {
    name: Option<&'a str>,
    specifiers: &'a [&'a str],
    /// Each `*`, with whether it is itself `const`.
    pointers: Vec<bool>,
    /// The parameters, for a function.
    params: Option<(Vec<Parsed<'a>>, bool)>,
}

impl<'a> Parsed<'a> {
    fn function(&self) -> Option<(&'a str, &Vec<Parsed<'a>>, &bool)> {
        let (params, variadic) = self.params.as_ref()?;
        Some((self.name?, params, variadic))
    }

    /// The Rust type of the value (for a function, of what it returns); `None` for `void`.
    fn rust_type(&self, returned: bool) -> Result<Option<Type>, String> {
        let (constant, base) = base_type(self.specifiers)?;
        if base == Type::Void && self.pointers.is_empty() {
            return if returned || self.name.is_none() {
                Ok(None)
            } else {
                Err("a `void` value".to_owned())
            };
        }
        let mut ty = base;
        let mut pointee_const = constant;
        for &pointer_const in &self.pointers {
            ty = Type::Pointer {
                mutable: !pointee_const,
                to: Box::new(ty),
            };
            pointee_const = pointer_const;
        }
        Ok(Some(ty))
    }
}

/// A declaration's tokens, parsed: specifiers, then `*`s (each maybe `const`), then a name, then
/// parameters in parentheses or array brackets (a parameter's array is a pointer).
fn parse<'a>(tokens: &'a [&'a str]) -> Result<Parsed<'a>, String> {
    let (specifiers, declarator) = split_specifiers(tokens);
    let mut parsed = Parsed {
        name: None,
        specifiers,
        pointers: Vec::new(),
        params: None,
    };
    let mut at = 0;
    while declarator.get(at) == Some(&"*") {
        at += 1;
        let constant = declarator.get(at) == Some(&"const");
        if constant {
            at += 1;
        }
        parsed.pointers.push(constant);
    }
    if let Some(&name) = declarator.get(at).filter(|t| is_identifier(t)) {
        parsed.name = Some(name);
        at += 1;
    }
    match declarator.get(at) {
        None => {}
        Some(&"(") if parsed.name.is_some() => {
            let close = declarator.len() - 1;
            if declarator[close] != ")" {
                return Err(format!("unexpected `{}`", declarator[close]));
            }
            parsed.params = Some(params(&declarator[at + 1..close])?);
        }
        Some(&"[") if declarator.last() == Some(&"]") => parsed.pointers.push(false),
        Some(other) => {
            return Err(format!(
                "cannot translate `{other}` here (a function pointer?)"
            ))
        }
    }
    Ok(parsed)
}

/// A parameter list's parameters, and whether it ends with `...`. `(void)` has none.
fn params<'a>(tokens: &'a [&'a str]) -> Result<(Vec<Parsed<'a>>, bool), String> {
    if tokens.is_empty() || tokens == ["void"] {
        return Ok((Vec::new(), false));
    }
    let mut list = Vec::new();
    let mut variadic = false;
    let mut depth = 0;
    let mut start = 0;
    for at in 0..=tokens.len() {
        match tokens.get(at).copied() {
            Some("(" | "[") => depth += 1,
            Some(")" | "]") => depth -= 1,
            Some(",") | None if depth == 0 => {
                let param = &tokens[start..at];
                if param == ["..."] {
                    variadic = true;
                } else {
                    list.push(parse(param)?);
                }
                start = at + 1;
            }
            _ => {}
        }
    }
    Ok((list, variadic))
}

/// The Rust type of C type specifiers, and whether they are `const`.
fn base_type(specifiers: &[&str]) -> Result<(bool, Type), String> {
    let count = |word: &str| specifiers.iter().filter(|t| **t == word).count();
    let constant = count("const") > 0;
    let words: Vec<&str> = specifiers
        .iter()
        .copied()
        .filter(|t| *t != "const")
        .collect();
    let unsigned = count("unsigned") > 0;
    let primitive = |name: &str| Type::Primitive(name.to_owned());
    let ty = match words.as_slice() {
        ["void"] => Type::Void,
        ["struct", name] => Type::Named((*name).to_owned()),
        [name] if !SPECIFIERS.contains(name) && !["signed", "unsigned"].contains(name) => {
            bindgen_primitive(name).map_or_else(|| Type::Named((*name).to_owned()), primitive)
        }
        _ if words
            .iter()
            .any(|w| matches!(*w, "float" | "double" | "union" | "enum"))
            || words.is_empty() =>
        {
            return Err(format!(
                "cannot translate the C type `{}`",
                specifiers.join(" ")
            ));
        }
        _ if count("_Bool") > 0 => primitive("bool"),
        _ if count("char") > 0 => primitive(match (unsigned, count("signed") > 0) {
            (true, _) => "c_uchar",
            (false, true) => "c_schar",
            (false, false) => "c_char",
        }),
        _ if count("short") > 0 => primitive(if unsigned { "c_ushort" } else { "c_short" }),
        _ if count("long") >= 2 => primitive(if unsigned {
            "c_ulonglong"
        } else {
            "c_longlong"
        }),
        _ if count("long") == 1 => primitive(if unsigned { "c_ulong" } else { "c_long" }),
        _ => primitive(if unsigned { "c_uint" } else { "c_int" }),
    };
    Ok((constant, ty))
}

/// The `typedef` names bindgen replaces by a Rust primitive (its `type_from_named`).
fn bindgen_primitive(name: &str) -> Option<&'static str> {
    Some(match name {
        "int8_t" => "i8",
        "uint8_t" => "u8",
        "int16_t" => "i16",
        "uint16_t" => "u16",
        "int32_t" => "i32",
        "uint32_t" => "u32",
        "int64_t" => "i64",
        "uint64_t" => "u64",
        "size_t" | "uintptr_t" => "usize",
        "ssize_t" | "intptr_t" | "ptrdiff_t" => "isize",
        _ => return None,
    })
}

/// The symbol a C function `name` has without an `__asm__` label: `_name` on Apple's targets
/// (Mach-O), `name` elsewhere.
fn default_symbol(name: &str) -> String {
    match std::env::var("CARGO_CFG_TARGET_VENDOR").as_deref() {
        Ok("apple") => format!("_{name}"),
        _ => name.to_owned(),
    }
}
