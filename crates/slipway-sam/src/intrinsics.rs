//! CloudFormation intrinsic functions, resolved as far as they can be
//! without a deployed stack: `Ref` to parameters (their defaults or given
//! values) and to pseudo parameters slipway knows, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::FindInMap`, `Fn::If` over conditions made of those.
//! Anything that needs the stack (`Fn::GetAtt`, `Ref` to a resource, the
//! account id) is reported as unresolved, with the expression that blocked it.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

/// An expression that cannot be known before deployment, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved(pub String);

/// What an expression evaluates to: a value, or `AWS::NoValue` (the property is absent).
pub type Resolution = Result<Option<Value>, Unresolved>;

/// What a template lets slipway know before deployment.
pub struct Scope<'a> {
    pub parameters: BTreeMap<String, Value>,
    pub pseudo: BTreeMap<&'static str, String>,
    pub mappings: Option<&'a Mapping>,
    pub conditions: Option<&'a Mapping>,
}

/// `(long name, argument)` when `value` is an intrinsic function, in its
/// short (`!Sub x`) or long (`{"Fn::Sub": x}`) form.
pub fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let name = match tag {
                "Ref" | "Condition" => tag.to_string(),
                other => format!("Fn::{other}"),
            };
            Some((name, &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k.starts_with("Fn::")).then(|| (k.to_string(), v))
        }
        _ => None,
    }
}

/// An expression as a person would write it, for messages.
pub fn show(value: &Value) -> String {
    match intrinsic(value) {
        Some((name, arg)) => {
            let short = name.trim_start_matches("Fn::");
            match arg {
                Value::String(s) => format!("!{short} {s}"),
                other => format!("!{short} {}", inline(other)),
            }
        }
        None => inline(value),
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Sequence(s) => format!("[{}]", s.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Mapping(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", inline(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Tagged(_) => show(value),
    }
}

impl Scope<'_> {
    /// Resolves every intrinsic inside `value`, or names the first that cannot be.
    pub fn resolve(&self, value: &Value) -> Resolution {
        if let Some((name, arg)) = intrinsic(value) {
            return self.function(&name, arg, value);
        }
        match value {
            Value::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Sequence(out)))
            }
            Value::Mapping(m) => {
                let mut out = Mapping::new();
                for (k, v) in m {
                    if let Some(v) = self.resolve(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Ok(Some(Value::Mapping(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    /// Resolves `value` to a string (numbers and booleans as CloudFormation renders them).
    pub fn string(&self, value: &Value) -> Result<Option<String>, Unresolved> {
        Ok(self.resolve(value)?.and_then(|v| scalar_string(&v)))
    }

    fn function(&self, name: &str, arg: &Value, whole: &Value) -> Resolution {
        let unresolved = || Unresolved(show(whole));
        match name {
            "Ref" => {
                let target = arg.as_str().ok_or_else(unresolved)?;
                if target == "AWS::NoValue" {
                    return Ok(None);
                }
                self.reference(target)
                    .map(Some)
                    .ok_or_else(|| Unresolved(format!("!Ref {target}")))
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Sequence(s) if s.len() == 2 => {
                        (s[0].as_str().ok_or_else(unresolved)?, s[1].as_mapping())
                    }
                    _ => return Err(unresolved()),
                };
                let mut local = BTreeMap::new();
                for (k, v) in vars.into_iter().flatten() {
                    let k = k.as_str().ok_or_else(unresolved)?;
                    local.insert(k.to_string(), self.string(v)?.ok_or_else(unresolved)?);
                }
                self.substitute(text, &local)
                    .map(|s| Some(Value::String(s)))
                    .map_err(|var| Unresolved(format!("${{{var}}} in {}", show(whole))))
            }
            "Fn::Join" => {
                let parts = arg
                    .as_sequence()
                    .filter(|s| s.len() == 2)
                    .ok_or_else(unresolved)?;
                let sep = parts[0].as_str().ok_or_else(unresolved)?;
                let list = self.resolve(&parts[1])?.ok_or_else(unresolved)?;
                let items = list.as_sequence().ok_or_else(unresolved)?;
                let strings = items
                    .iter()
                    .map(|i| scalar_string(i).ok_or_else(unresolved))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Value::String(strings.join(sep))))
            }
            "Fn::Select" => {
                let parts = arg
                    .as_sequence()
                    .filter(|s| s.len() == 2)
                    .ok_or_else(unresolved)?;
                let index = self
                    .string(&parts[0])?
                    .and_then(|i| i.parse::<usize>().ok());
                let list = self.resolve(&parts[1])?;
                let item = list
                    .as_ref()
                    .and_then(Value::as_sequence)
                    .zip(index)
                    .and_then(|(l, i)| l.get(i).cloned());
                item.map(Some).ok_or_else(unresolved)
            }
            "Fn::FindInMap" => {
                let parts = arg
                    .as_sequence()
                    .filter(|s| s.len() == 3)
                    .ok_or_else(unresolved)?;
                let keys = parts
                    .iter()
                    .map(|p| self.string(p)?.ok_or_else(unresolved))
                    .collect::<Result<Vec<_>, _>>()?;
                let found = self
                    .mappings
                    .and_then(|m| m.get(keys[0].as_str()))
                    .and_then(|m| m.get(keys[1].as_str()))
                    .and_then(|m| m.get(keys[2].as_str()))
                    .ok_or_else(unresolved)?;
                self.resolve(found)
            }
            "Fn::If" => {
                let parts = arg
                    .as_sequence()
                    .filter(|s| s.len() == 3)
                    .ok_or_else(unresolved)?;
                let condition = parts[0].as_str().ok_or_else(unresolved)?;
                if self.condition(condition, 0).ok_or_else(unresolved)? {
                    self.resolve(&parts[1])
                } else {
                    self.resolve(&parts[2])
                }
            }
            // GetAtt, ImportValue, GetAZs, Cidr, Base64 of the unknown, …: the stack knows.
            _ => Err(unresolved()),
        }
    }

    /// A parameter's value or a pseudo parameter slipway knows.
    fn reference(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.parameters.get(name) {
            return Some(v.clone());
        }
        self.pseudo.get(name).map(|v| Value::String(v.clone()))
    }

    /// `${Name}` and `${Name.Attr}` in an `Fn::Sub` string; `${!Literal}` stays `${Literal}`.
    fn substitute(&self, text: &str, local: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let var = after[..end].trim();
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = local.get(var) {
                out.push_str(v);
            } else if let Some(v) = self.reference(var).as_ref().and_then(scalar_string) {
                out.push_str(&v);
            } else {
                return Err(var.to_string());
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Evaluates the template condition `name`; `None` when it depends on the unknown.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        let expr = self.conditions?.get(name)?;
        self.condition_expr(expr, depth + 1)
    }

    fn condition_expr(&self, expr: &Value, depth: usize) -> Option<bool> {
        // Conditions may name each other; a cycle is the template's error, not a hang.
        if depth > 32 {
            return None;
        }
        let (name, arg) = intrinsic(expr).or_else(|| {
            let m = expr.as_mapping().filter(|m| m.len() == 1)?;
            let (k, v) = m.iter().next()?;
            (k.as_str()? == "Condition").then(|| ("Condition".to_string(), v))
        })?;
        let list = || arg.as_sequence();
        match name.as_str() {
            "Condition" => self.condition(arg.as_str()?, depth),
            "Fn::Equals" => {
                let l = list().filter(|l| l.len() == 2)?;
                let a = self.string(&l[0]).ok()??;
                let b = self.string(&l[1]).ok()??;
                Some(a == b)
            }
            "Fn::Not" => Some(!self.condition_expr(list()?.first()?, depth + 1)?),
            "Fn::And" => {
                let mut all = true;
                for c in list()? {
                    all &= self.condition_expr(c, depth + 1)?;
                }
                Some(all)
            }
            "Fn::Or" => {
                let mut any = false;
                for c in list()? {
                    any |= self.condition_expr(c, depth + 1)?;
                }
                Some(any)
            }
            _ => None,
        }
    }
}

/// A scalar as CloudFormation turns it into a string.
pub fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_for(yaml: &str) -> (Value, Value) {
        let doc: Value = serde_norway::from_str(yaml).unwrap();
        (doc.clone(), doc)
    }

    fn eval(yaml: &str, expr: &str) -> Resolution {
        let (doc, _) = scope_for(yaml);
        let scope = Scope {
            parameters: doc
                .get("Parameters")
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.get("Default")?.clone())))
                .collect(),
            pseudo: [
                ("AWS::Region", "eu-west-1".to_string()),
                ("AWS::Partition", "aws".to_string()),
            ]
            .into_iter()
            .collect(),
            mappings: doc.get("Mappings").and_then(Value::as_mapping),
            conditions: doc.get("Conditions").and_then(Value::as_mapping),
        };
        let value: Value = serde_norway::from_str(expr).unwrap();
        scope.resolve(&value)
    }

    const TEMPLATE: &str = r#"
Parameters:
  Stage: { Type: String, Default: prod }
  Memory: { Type: Number, Default: 512 }
  Table: { Type: String }
Mappings:
  Sizes: { prod: { Memory: 1024 }, dev: { Memory: 128 } }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: { "Fn::Not": [{ Condition: IsProd }] }
  Unknown: !Equals [!Ref "AWS::AccountId", "1"]
"#;

    fn string(r: Resolution) -> String {
        scalar_string(&r.unwrap().unwrap()).unwrap()
    }

    #[test]
    fn parameters_pseudo_parameters_and_sub_resolve() {
        assert_eq!(string(eval(TEMPLATE, "!Ref Stage")), "prod");
        assert_eq!(string(eval(TEMPLATE, "!Ref Memory")), "512");
        assert_eq!(
            string(eval(
                TEMPLATE,
                "!Sub 'orders-${Stage}-${AWS::Region}-${!Literal}'"
            )),
            "orders-prod-eu-west-1-${Literal}"
        );
        assert_eq!(
            string(eval(
                TEMPLATE,
                "{ 'Fn::Sub': ['${A}-${Stage}', { A: !Ref AWS::Partition }] }"
            )),
            "aws-prod"
        );
        assert_eq!(
            string(eval(TEMPLATE, "!Join ['-', [a, !Ref Stage]]")),
            "a-prod"
        );
        assert_eq!(string(eval(TEMPLATE, "!Select [1, [a, b]]")), "b");
        assert_eq!(
            string(eval(TEMPLATE, "!FindInMap [Sizes, !Ref Stage, Memory]")),
            "1024"
        );
        assert_eq!(string(eval(TEMPLATE, "!If [IsProd, big, small]")), "big");
        assert_eq!(string(eval(TEMPLATE, "!If [IsDev, big, small]")), "small");
        assert_eq!(eval(TEMPLATE, "!Ref AWS::NoValue"), Ok(None));
        let list = eval(TEMPLATE, "[a, !Ref AWS::NoValue, !Ref Stage]")
            .unwrap()
            .unwrap();
        assert_eq!(list.as_sequence().unwrap().len(), 2);
    }

    #[test]
    fn what_needs_the_stack_is_named() {
        let cases = [
            ("!GetAtt Queue.Arn", "!GetAtt Queue.Arn"),
            ("{ 'Fn::GetAtt': [Queue, Arn] }", "!GetAtt [Queue, Arn]"),
            ("!Ref Table", "!Ref Table"),
            ("!Ref Bucket", "!Ref Bucket"),
            (
                "!Sub 'arn:aws:s3:::${Bucket}'",
                "${Bucket} in !Sub arn:aws:s3:::${Bucket}",
            ),
            ("!Sub '${AWS::AccountId}'", "${AWS::AccountId}"),
            ("!If [Unknown, a, b]", "!If [Unknown, a, b]"),
            ("{ Key: [x, !ImportValue shared] }", "!ImportValue shared"),
        ];
        for (expr, blocked) in cases {
            let e = eval(TEMPLATE, expr).unwrap_err();
            assert!(e.0.contains(blocked), "{expr}: {e:?}");
        }
    }

    #[test]
    fn conditions_that_loop_are_unresolved_not_a_hang() {
        let t = "Conditions:\n  A: { Condition: B }\n  B: { Condition: A }\n";
        assert!(eval(t, "!If [A, x, y]").is_err());
    }
}
