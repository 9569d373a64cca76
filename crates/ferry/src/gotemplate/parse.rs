//! Builds the template tree from lexed segments.

use super::lex::{self, Segment, Tok, Token};
use super::{TemplateError, Value, funcs};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If {
        pipe: Pipe,
        then: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    With {
        pipe: Pipe,
        then: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    Break,
    Continue,
}

/// `$a, $b := cmd | cmd …`
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub decl: Vec<String>,
    /// `=` instead of `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    pub args: Vec<Operand>,
    pub pos: usize,
    /// Source text of the first operand (for `at <…>` in errors).
    pub src: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Dot,
    /// `.A.B` (relative to dot).
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    Func(String),
    Lit(Value),
    /// `(pipeline).A.B`
    Sub(Box<Pipe>, Vec<String>),
}

pub struct Tree {
    pub nodes: Vec<Node>,
    pub src: String,
}

enum Stop {
    Eof,
    End,
    Else(Vec<Token>, usize),
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    segs: Vec<Segment>,
    i: usize,
    range_depth: usize,
}

pub fn parse(name: &str, src: &str) -> Result<Tree, TemplateError> {
    let segs = lex::segments(src).map_err(|(pos, msg)| err_at(name, src, pos, &msg))?;
    let mut p = Parser {
        name,
        src,
        segs,
        i: 0,
        range_depth: 0,
    };
    let (nodes, end) = p.list()?;
    match end {
        Stop::Eof => Ok(Tree {
            nodes,
            src: src.to_string(),
        }),
        Stop::End => Err(p.err(src.len(), "unexpected {{end}}")),
        Stop::Else(_, pos) => Err(p.err(pos, "unexpected {{else}}")),
    }
}

fn err_at(name: &str, src: &str, pos: usize, msg: &str) -> TemplateError {
    let (line, _) = lex::line_col(src, pos);
    TemplateError(format!("template: {name}:{line}: {msg}"))
}

fn strip_spaces(tokens: &[Token]) -> &[Token] {
    let start = tokens
        .iter()
        .position(|t| t.tok != Tok::Space)
        .unwrap_or(tokens.len());
    let end = tokens
        .iter()
        .rposition(|t| t.tok != Tok::Space)
        .map_or(start, |e| e + 1);
    &tokens[start..end.max(start)]
}

impl Parser<'_> {
    fn err(&self, pos: usize, msg: &str) -> TemplateError {
        err_at(self.name, self.src, pos, msg)
    }

    /// Parses nodes until `{{end}}`, `{{else …}}` or the end of the template.
    fn list(&mut self) -> Result<(Vec<Node>, Stop), TemplateError> {
        let mut nodes = Vec::new();
        while self.i < self.segs.len() {
            let seg = self.segs[self.i].clone();
            self.i += 1;
            let (tokens, pos) = match seg {
                Segment::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Segment::Action { tokens, pos } => (tokens, pos),
            };
            let toks = strip_spaces(&tokens);
            let Some(first) = toks.first() else {
                return Err(self.err(pos, "missing value for command"));
            };
            let rest = &toks[1..];
            match &first.tok {
                Tok::Ident(k) if k == "end" => {
                    if !strip_spaces(rest).is_empty() {
                        return Err(self.err(pos, "unexpected tokens in end"));
                    }
                    return Ok((nodes, Stop::End));
                }
                Tok::Ident(k) if k == "else" => {
                    return Ok((nodes, Stop::Else(strip_spaces(rest).to_vec(), pos)));
                }
                Tok::Ident(k) if k == "if" || k == "with" || k == "range" => {
                    nodes.push(self.control(k, rest, first.pos)?);
                }
                Tok::Ident(k) if k == "break" || k == "continue" => {
                    if self.range_depth == 0 {
                        return Err(self.err(pos, &format!("{{{{{k}}}}} outside {{{{range}}}}")));
                    }
                    nodes.push(if k == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                Tok::Ident(k) if matches!(k.as_str(), "define" | "template" | "block") => {
                    return Err(self.err(pos, &format!("{{{{{k}}}}} is not supported")));
                }
                _ => nodes.push(Node::Action(self.pipe(toks, pos)?)),
            }
        }
        Ok((nodes, Stop::Eof))
    }

    fn control(&mut self, kw: &str, tokens: &[Token], pos: usize) -> Result<Node, TemplateError> {
        let pipe = self.pipe(strip_spaces(tokens), pos)?;
        if kw == "range" {
            self.range_depth += 1;
        }
        let (body, end) = self.list()?;
        if kw == "range" {
            self.range_depth -= 1;
        }
        let otherwise = match end {
            Stop::Eof => return Err(self.err(self.src.len(), "unexpected EOF")),
            Stop::End => None,
            Stop::Else(rest, _) if rest.is_empty() => {
                let (list, end) = self.list()?;
                match end {
                    Stop::End => Some(list),
                    Stop::Eof => return Err(self.err(self.src.len(), "unexpected EOF")),
                    Stop::Else(_, p) => return Err(self.err(p, "expected end; found {{else}}")),
                }
            }
            Stop::Else(rest, epos) => {
                // `{{else if …}}` / `{{else with …}}`: a nested control that shares our end.
                match rest.first().map(|t| &t.tok) {
                    Some(Tok::Ident(k)) if (k == "if" || k == "with") && kw != "range" => {
                        let k = k.clone();
                        Some(vec![self.control(&k, &rest[1..], epos)?])
                    }
                    _ => return Err(self.err(epos, "unexpected tokens in else")),
                }
            }
        };
        Ok(match kw {
            "if" => Node::If {
                pipe,
                then: body,
                otherwise,
            },
            "with" => Node::With {
                pipe,
                then: body,
                otherwise,
            },
            _ => Node::Range {
                pipe,
                body,
                otherwise,
            },
        })
    }

    /// `[decl :=] cmd | cmd …`
    fn pipe(&self, tokens: &[Token], pos: usize) -> Result<Pipe, TemplateError> {
        let tokens = strip_spaces(tokens);
        let mut decl = Vec::new();
        let mut assign = false;
        let mut body = tokens;
        let nonspace: Vec<(usize, &Tok)> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| t.tok != Tok::Space)
            .map(|(i, t)| (i, &t.tok))
            .collect();
        let decl_end = match nonspace.as_slice() {
            [(_, Tok::Var(a)), (i, Tok::Declare | Tok::Assign), ..] => {
                decl.push(a.clone());
                Some(*i)
            }
            [
                (_, Tok::Var(a)),
                (_, Tok::Comma),
                (_, Tok::Var(b)),
                (i, Tok::Declare | Tok::Assign),
                ..,
            ] => {
                decl.push(a.clone());
                decl.push(b.clone());
                Some(*i)
            }
            _ => None,
        };
        if let Some(i) = decl_end {
            assign = tokens[i].tok == Tok::Assign;
            body = strip_spaces(&tokens[i + 1..]);
        }
        let mut cmds = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, t) in body.iter().enumerate() {
            match t.tok {
                Tok::LParen => depth += 1,
                Tok::RParen => depth = depth.saturating_sub(1),
                Tok::Pipe if depth == 0 => {
                    cmds.push(self.cmd(&body[start..i], t.pos)?);
                    start = i + 1;
                }
                _ => {}
            }
        }
        cmds.push(self.cmd(&body[start..], body.last().map_or(pos, |t| t.pos))?);
        Ok(Pipe {
            decl,
            assign,
            cmds,
            pos,
        })
    }

    fn cmd(&self, tokens: &[Token], pos: usize) -> Result<Cmd, TemplateError> {
        let tokens = strip_spaces(tokens);
        if tokens.is_empty() {
            return Err(self.err(pos, "missing value for command"));
        }
        let mut args = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, t) in tokens.iter().enumerate() {
            match t.tok {
                Tok::LParen => depth += 1,
                Tok::RParen => depth = depth.saturating_sub(1),
                Tok::Space if depth == 0 => {
                    if start < i {
                        args.push(self.operand(&tokens[start..i])?);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        if start < tokens.len() {
            args.push(self.operand(&tokens[start..])?);
        }
        // The first operand's text: up to the first top-level space, else the command.
        let first_end = tokens
            .iter()
            .position(|t| t.tok == Tok::Space)
            .map_or_else(|| tokens[tokens.len() - 1].end, |i| tokens[i].pos);
        let src = self
            .src
            .get(tokens[0].pos..first_end.max(tokens[0].pos))
            .unwrap_or("")
            .to_string();
        Ok(Cmd {
            args,
            pos: tokens[0].pos,
            src,
        })
    }

    fn fields(&self, rest: &[Token]) -> Result<Vec<String>, TemplateError> {
        rest.iter()
            .map(|t| match &t.tok {
                Tok::Field(f) => Ok(f.clone()),
                other => Err(self.err(t.pos, &format!("unexpected {other:?} in operand"))),
            })
            .collect()
    }

    fn operand(&self, tokens: &[Token]) -> Result<Operand, TemplateError> {
        let first = &tokens[0];
        let rest = &tokens[1..];
        Ok(match &first.tok {
            Tok::Field(f) => {
                let mut chain = vec![f.clone()];
                chain.extend(self.fields(rest)?);
                Operand::Field(chain)
            }
            Tok::Dot if rest.is_empty() => Operand::Dot,
            Tok::Var(v) => Operand::Var(v.clone(), self.fields(rest)?),
            Tok::Ident(name) if rest.is_empty() => {
                if !funcs::exists(name) {
                    return Err(self.err(first.pos, &format!("function {name:?} not defined")));
                }
                Operand::Func(name.clone())
            }
            Tok::LParen => {
                let close = tokens
                    .iter()
                    .rposition(|t| t.tok == Tok::RParen)
                    .ok_or_else(|| self.err(first.pos, "unclosed left paren"))?;
                let inner = self.pipe(&tokens[1..close], first.pos)?;
                Operand::Sub(Box::new(inner), self.fields(&tokens[close + 1..])?)
            }
            Tok::Str(s) if rest.is_empty() => Operand::Lit(Value::Str(s.clone())),
            Tok::Int(i) if rest.is_empty() => Operand::Lit(Value::Int(*i)),
            Tok::Float(f) if rest.is_empty() => Operand::Lit(Value::Float(*f)),
            Tok::Bool(b) if rest.is_empty() => Operand::Lit(Value::Bool(*b)),
            Tok::Nil if rest.is_empty() => Operand::Lit(Value::Nil),
            other => {
                return Err(self.err(
                    first.pos,
                    &format!("unexpected {} in operand", describe(other)),
                ));
            }
        })
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::RParen => "\")\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Pipe => "\"|\"".into(),
        other => format!("{other:?}"),
    }
}
