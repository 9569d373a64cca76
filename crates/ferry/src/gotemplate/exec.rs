//! Executes a parsed template over a [`Value`].

use super::parse::{Cmd, Node, Operand, Pipe, Tree};
use super::{TemplateError, Value, funcs, lex};

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    name: &'a str,
    src: &'a str,
    root: &'a Value,
    vars: Vec<(String, Value)>,
    out: String,
}

pub fn execute(name: &str, tree: &Tree, data: &Value) -> Result<String, TemplateError> {
    let mut st = State {
        name,
        src: &tree.src,
        root: data,
        vars: Vec::new(),
        out: String::new(),
    };
    st.walk(data, &tree.nodes)?;
    Ok(st.out)
}

impl State<'_> {
    fn err(&self, pos: usize, at: &str, msg: &str) -> TemplateError {
        let (line, col) = lex::line_col(self.src, pos);
        TemplateError(format!(
            "template: {name}:{line}:{col}: executing \"{name}\" at <{at}>: {msg}",
            name = self.name
        ))
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> Result<Flow, TemplateError> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipe(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.out.push_str(&v.to_string());
                    }
                }
                Node::If {
                    pipe,
                    then,
                    otherwise,
                }
                | Node::With {
                    pipe,
                    then,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipe(dot, pipe)?;
                    let is_with = matches!(node, Node::With { .. });
                    let flow = if v.truthy() {
                        if is_with {
                            self.walk(&v, then)?
                        } else {
                            self.walk(dot, then)?
                        }
                    } else if let Some(list) = otherwise {
                        self.walk(dot, list)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let flow = self.range(dot, pipe, body, otherwise.as_deref())?;
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        body: &[Node],
        otherwise: Option<&[Node]>,
    ) -> Result<Flow, TemplateError> {
        let mark = self.vars.len();
        let plain = Pipe {
            decl: Vec::new(),
            assign: false,
            cmds: pipe.cmds.clone(),
            pos: pipe.pos,
        };
        let v = self.pipe(dot, &plain)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, e)| (Value::Int(i64::try_from(i).unwrap_or(i64::MAX)), e.clone()))
                .collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, e)| (Value::Str(k.clone()), e.clone()))
                .collect(),
            Value::Int(n) => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            Value::Missing | Value::Nil => Vec::new(),
            other => {
                let at = pipe.cmds.first().map_or("", |c| c.src.as_str());
                return Err(self.err(pipe.pos, at, &format!("range can't iterate over {other}")));
            }
        };
        if items.is_empty() {
            let flow = match otherwise {
                Some(list) => self.walk(dot, list)?,
                None => Flow::Normal,
            };
            self.vars.truncate(mark);
            return Ok(match flow {
                Flow::Normal => Flow::Normal,
                other => other,
            });
        }
        for (key, elem) in items {
            let inner = self.vars.len();
            match pipe.decl.as_slice() {
                [v] => self.vars.push((v.clone(), elem.clone())),
                [k, v] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), elem.clone()));
                }
                _ => {}
            }
            let flow = self.walk(&elem, body)?;
            self.vars.truncate(inner);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn pipe(&mut self, dot: &Value, pipe: &Pipe) -> Result<Value, TemplateError> {
        let mut val: Option<Value> = None;
        for cmd in &pipe.cmds {
            val = Some(self.cmd(dot, cmd, val)?);
        }
        let val = val.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.assign {
                let slot = self.vars.iter_mut().rev().find(|(n, _)| n == name);
                match slot {
                    Some((_, v)) => *v = val.clone(),
                    None => {
                        return Err(self.err(
                            pipe.pos,
                            &format!("${name}"),
                            &format!("undefined variable: ${name}"),
                        ));
                    }
                }
            } else {
                self.vars.push((name.clone(), val.clone()));
            }
        }
        Ok(val)
    }

    fn cmd(
        &mut self,
        dot: &Value,
        cmd: &Cmd,
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let Some(first) = cmd.args.first() else {
            return Err(self.err(cmd.pos, &cmd.src, "missing value for command"));
        };
        if let Operand::Func(name) = first {
            if name == "and" || name == "or" {
                return self.and_or(dot, cmd, name == "and", piped);
            }
            let mut args = Vec::with_capacity(cmd.args.len());
            for op in &cmd.args[1..] {
                args.push(self.operand(dot, op, cmd)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            return funcs::call(name, args)
                .map_err(|e| self.err(cmd.pos, &cmd.src, &format!("error calling {name}: {e}")));
        }
        if cmd.args.len() > 1 || piped.is_some() {
            return Err(self.err(
                cmd.pos,
                &cmd.src,
                &format!("can't give argument to non-function {}", cmd.src),
            ));
        }
        self.operand(dot, first, cmd)
    }

    /// `and`/`or` evaluate their arguments lazily and return the deciding one.
    fn and_or(
        &mut self,
        dot: &Value,
        cmd: &Cmd,
        is_and: bool,
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let n = cmd.args.len() - 1 + usize::from(piped.is_some());
        if n == 0 {
            let name = if is_and { "and" } else { "or" };
            return Err(self.err(
                cmd.pos,
                &cmd.src,
                &format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let mut last = Value::Missing;
        for op in &cmd.args[1..] {
            last = self.operand(dot, op, cmd)?;
            if last.truthy() != is_and {
                return Ok(last);
            }
        }
        if let Some(p) = piped {
            last = p;
        }
        Ok(last)
    }

    fn operand(&mut self, dot: &Value, op: &Operand, cmd: &Cmd) -> Result<Value, TemplateError> {
        match op {
            Operand::Dot => Ok(dot.clone()),
            Operand::Field(chain) => self.fields(dot.clone(), chain, cmd),
            Operand::Var(name, chain) => {
                let base = if name.is_empty() {
                    self.root.clone()
                } else {
                    match self.vars.iter().rev().find(|(n, _)| n == name) {
                        Some((_, v)) => v.clone(),
                        None => {
                            return Err(self.err(
                                cmd.pos,
                                &cmd.src,
                                &format!("undefined variable: ${name}"),
                            ));
                        }
                    }
                };
                self.fields(base, chain, cmd)
            }
            Operand::Func(name) => funcs::call(name, Vec::new())
                .map_err(|e| self.err(cmd.pos, &cmd.src, &format!("error calling {name}: {e}"))),
            Operand::Lit(v) => Ok(v.clone()),
            Operand::Sub(pipe, chain) => {
                let v = self.pipe(dot, pipe)?;
                self.fields(v, chain, cmd)
            }
        }
    }

    fn fields(&self, mut v: Value, chain: &[String], cmd: &Cmd) -> Result<Value, TemplateError> {
        for name in chain {
            v = match v {
                Value::Struct(s) => match s.field(name) {
                    Some(f) => f.clone(),
                    None => {
                        return Err(self.err(
                            cmd.pos,
                            &cmd.src,
                            &format!("can't evaluate field {name} in type {}", s.type_name),
                        ));
                    }
                },
                Value::Map(m) => m.get(name).cloned().unwrap_or(Value::Missing),
                Value::Missing | Value::Nil => {
                    return Err(self.err(
                        cmd.pos,
                        &cmd.src,
                        &format!("nil pointer evaluating interface {{}}.{name}"),
                    ));
                }
                other => {
                    return Err(self.err(
                        cmd.pos,
                        &cmd.src,
                        &format!("can't evaluate field {name} in type {}", other.type_name()),
                    ));
                }
            };
        }
        Ok(v)
    }
}
