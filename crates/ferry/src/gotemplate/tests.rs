//! Template engine tests against outputs of Go's text/template (values checked with
//! skopeo 1.9.3 where the feature exists there).

use std::collections::BTreeMap;

use ferry_manifest::gojson::GoTime;

use super::*;

fn data() -> Value {
    let json = serde_json::json!({
        "Name": "docker.io/library/busybox",
        "Digest": "sha256:abc",
        "RepoTags": ["1.0", "latest"],
        "Labels": {"z": "w", "k1": "v1"},
        "Env": ["PATH=/usr/bin", "A=b"],
        "Size": 1234,
        "Ratio": 1.5,
        "Empty": [],
        "Layers": [{"Digest": "sha256:1", "Size": 10}, {"Digest": "sha256:2", "Size": 20}]
    });
    let mut v = Value::struct_from_json(
        "inspect.Output",
        &json,
        &[
            ("Name", Value::Str(String::new())),
            ("Tag", Value::Str(String::new())),
            ("Digest", Value::Str(String::new())),
            ("RepoTags", Value::List(vec![])),
            ("Labels", Value::Map(BTreeMap::new())),
            ("Env", Value::List(vec![])),
            ("Size", Value::Int(0)),
            ("Ratio", Value::Float(0.0)),
            ("Empty", Value::List(vec![])),
            ("Layers", Value::List(vec![])),
            ("Created", Value::Nil),
        ],
    );
    if let Value::Struct(s) = &mut v
        && let Some((_, c)) = s.fields.iter_mut().find(|(n, _)| n == "Created")
    {
        *c = Value::Time(GoTime::parse("2024-01-01T00:00:00Z").unwrap());
    }
    v
}

fn r(t: &str) -> String {
    render("inspect", t, &data()).unwrap()
}

fn e(t: &str) -> String {
    render("inspect", t, &data()).unwrap_err().0
}

#[test]
fn fields_and_go_printing() {
    assert_eq!(r("{{.Name}}"), "docker.io/library/busybox");
    assert_eq!(r("{{.Tag}}|"), "|");
    assert_eq!(r("{{.Labels}}"), "map[k1:v1 z:w]");
    assert_eq!(r("{{.Env}}"), "[PATH=/usr/bin A=b]");
    assert_eq!(r("{{.Labels.k1}} {{.Labels.nope}}"), "v1 <no value>");
    assert_eq!(r("{{.Created}}"), "2024-01-01 00:00:00 +0000 UTC");
    assert_eq!(r("{{.Size}} {{.Ratio}}"), "1234 1.5");
    assert_eq!(r("{{(index .Layers 1).Digest}}"), "sha256:2");
    assert_eq!(r("{{index .Layers 0}}"), "map[Digest:sha256:1 Size:10]");
}

#[test]
fn functions() {
    assert_eq!(r("{{json .Labels}}"), r#"{"k1":"v1","z":"w"}"#);
    assert_eq!(r("{{json .Env}}"), r#"["PATH=/usr/bin","A=b"]"#);
    assert_eq!(r("{{join .RepoTags \",\"}}"), "1.0,latest");
    assert_eq!(
        r("{{index .Labels \"k1\"}}|{{index .Labels \"no\"}}|"),
        "v1||"
    );
    assert_eq!(r("{{upper .Name | lower}}"), "docker.io/library/busybox");
    assert_eq!(
        r("{{printf \"%s-%d-%5s|%-4d|%q\" .Digest 3 \"ab\" 7 \"x\"}}"),
        "sha256:abc-3-   ab|7   |\"x\""
    );
    assert_eq!(
        r("{{printf \"%d\" .Name}}"),
        "%!d(string=docker.io/library/busybox)"
    );
    assert_eq!(r("{{printf \"%s %s\" .Tag}}"), " %!s(MISSING)");
    assert_eq!(
        r("{{printf \"%.2f %v %03d\" .Ratio .Ratio 7}}"),
        "1.50 1.5 007"
    );
    assert_eq!(r("{{len .Env}} {{len .Labels}} {{len .Name}}"), "2 2 25");
    assert_eq!(
        r("{{title \"hello world\"}} {{truncate \"abcdef\" 3}} {{split \"a,b\" \",\"}}"),
        "Hello World abc [a b]"
    );
    assert_eq!(r("{{pad \"x\" 1 2}}|"), " x  |");
    assert_eq!(r("{{print 1 2 \"a\" 3}}"), "1 2a3");
    assert_eq!(
        r("{{eq .Size 1234}} {{ne .Name \"x\"}} {{lt 1 2.5}} {{ge \"b\" \"a\"}}"),
        "true true true true"
    );
    assert_eq!(r("{{eq .Tag \"a\" \"\"}}"), "true");
    assert_eq!(
        r("{{and .Name .Empty}}|{{or .Empty .Tag \"d\"}}|{{not .Empty}}"),
        "[]|d|true"
    );
    assert_eq!(r("{{slice .Name 0 6}}"), "docker");
}

#[test]
fn control_structures() {
    assert_eq!(r("{{range .Env}}[{{.}}]{{end}}"), "[PATH=/usr/bin][A=b]");
    assert_eq!(
        r("{{range $i, $e := .Env}}{{$i}}={{$e}};{{end}}"),
        "0=PATH=/usr/bin;1=A=b;"
    );
    assert_eq!(
        r("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}"),
        "k1=v1;z=w;"
    );
    assert_eq!(r("{{range .Empty}}x{{else}}none{{end}}"), "none");
    assert_eq!(
        r("{{range .Layers}}{{if eq .Size 20}}{{break}}{{end}}{{.Digest}} {{end}}"),
        "sha256:1 "
    );
    assert_eq!(
        r("{{range .Layers}}{{if eq .Size 10}}{{continue}}{{end}}{{.Digest}}{{end}}"),
        "sha256:2"
    );
    assert_eq!(r("{{if .Labels}}yes{{else}}no{{end}}"), "yes");
    assert_eq!(r("{{if .Tag}}a{{else if .Name}}b{{else}}c{{end}}"), "b");
    assert_eq!(
        r("{{with .Labels}}{{.k1}}{{end}}{{with .Tag}}x{{else}}y{{end}}"),
        "v1y"
    );
    assert_eq!(
        r("{{$n := .Name}}{{range .Env}}{{$n}} {{end}}"),
        "docker.io/library/busybox docker.io/library/busybox "
    );
    assert_eq!(
        r("{{range .Env}}{{$.Digest}}{{end}}"),
        "sha256:abcsha256:abc"
    );
    assert_eq!(r("{{$x := 1}}{{$x = 2}}{{$x}}"), "2");
    assert_eq!(r("a {{- /* comment */ -}} b\n{{- .Size}}"), "ab1234");
}

#[test]
fn errors_are_clear() {
    assert_eq!(
        e("{{.Foo}}"),
        "template: inspect:1:2: executing \"inspect\" at <.Foo>: can't evaluate field Foo in type inspect.Output"
    );
    assert_eq!(
        e("{{nope .X}}"),
        "template: inspect:1: function \"nope\" not defined"
    );
    assert!(e("{{.Digest").starts_with("template: inspect:1: unclosed action"));
    assert!(e("{{if .Name}}x").contains("unexpected EOF"));
    assert!(e("{{end}}").contains("unexpected {{end}}"));
    assert!(e("{{break}}").contains("{{break}} outside {{range}}"));
    assert!(
        e("{{range .Name}}{{end}}").contains("range can't iterate over docker.io/library/busybox")
    );
    assert!(e("{{.Name.X}}").contains("can't evaluate field X in type string"));
    assert!(e("{{$y}}").contains("undefined variable: $y"));
    assert!(e("{{len 3}}").contains("error calling len: len of type int"));
    assert!(e("{{index .Env 5}}").contains("index out of range: 5"));
}

#[test]
fn report_layer() {
    assert_eq!(
        render_report("inspect", "{{.Size}}", &data()).unwrap(),
        "1234\n"
    );
    assert_eq!(
        render_report("inspect", "{{.Size}}\n", &data()).unwrap(),
        "1234\n"
    );
    assert_eq!(
        render_report("inspect", "x\\ny", &data()).unwrap(),
        "x\ny\n"
    );
    assert_eq!(
        render_report("inspect", "table {{.Size}}\\t{{.Tag}}|", &data()).unwrap(),
        "1234        |\n"
    );
    assert_eq!(
        render_report("inspect", "{{.Foo}}", &data()).unwrap_err().0,
        "template: inspect:1:2: executing \"inspect\" at <.Foo>: can't evaluate field Foo in type inspect.Output"
    );
    assert_eq!(
        render_report(
            "inspect",
            "{{.Name}}\\t{{.Name.X | printf \"%s\"}}",
            &data()
        )
        .unwrap_err()
        .0,
        "template: inspect:1:12: executing \"inspect\" at <.Name.X>: can't evaluate field X in type string"
    );
    assert!(is_json_format("json"));
    assert!(is_json_format(" {{ json . }} "));
    assert!(!is_json_format("{{json .Labels}}"));
}

#[test]
fn float_formatting_like_go() {
    assert_eq!(funcs::format_float_g(1e6), "1e+06");
    assert_eq!(funcs::format_float_g(123456.0), "123456");
    assert_eq!(funcs::format_float_g(0.0001), "0.0001");
    assert_eq!(funcs::format_float_g(0.00001), "1e-05");
    assert_eq!(funcs::format_float_g(2.5), "2.5");
}
