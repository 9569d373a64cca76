//! `inspect --format` data: skopeo's Go structs (`inspect.Output`, image-spec `v1.Image`)
//! rebuilt as template [`Value`]s with Go's field names, so templates written for skopeo
//! (`{{.Config.Env}}`, `{{.RootFS.DiffIDs}}`, `{{.Created}}`) evaluate the same way. Nil
//! maps and slices print as Go prints them (`map[]`, `[]`), times as `time.Time`.

use std::collections::BTreeMap;

use ferry_image::inspect::InspectInfo;
use ferry_manifest::config::{History, OciImage};
use ferry_manifest::gojson::GoTime;

use crate::gotemplate::{Struct, Value};

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn strings(v: Option<&[String]>) -> Value {
    Value::List(v.unwrap_or_default().iter().map(|x| s(x)).collect())
}

fn string_map(m: Option<&BTreeMap<String, String>>) -> Value {
    Value::Map(
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
            .unwrap_or_default(),
    )
}

/// Go's `map[string]struct{}`: values print as `{}`.
fn set<T>(m: Option<&BTreeMap<String, T>>) -> Value {
    Value::Map(
        m.map(|m| {
            m.keys()
                .map(|k| (k.clone(), strukt("struct {}", Vec::new())))
                .collect()
        })
        .unwrap_or_default(),
    )
}

/// `*time.Time`: `<nil>` when absent.
fn time(t: Option<&GoTime>) -> Value {
    t.map_or(Value::Nil, |t| Value::Time(*t))
}

fn strukt(type_name: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::Struct(Struct {
        type_name: type_name.to_string(),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    })
}

/// skopeo's `inspect.Output`. ferry's artifact fields (`ArtifactType`, `Annotations`)
/// exist only for artifacts, so `{{.}}` of an image prints exactly what skopeo prints.
pub fn image_value(i: &InspectInfo) -> Value {
    let mut fields = vec![
        ("Name", s(&i.name)),
        ("Tag", s(&i.tag)),
        ("Digest", s(&i.digest.to_string())),
        ("RepoTags", strings(Some(&i.repo_tags))),
        ("Created", time(i.created.as_ref())),
        ("DockerVersion", s(&i.docker_version)),
        ("Labels", string_map(i.labels.as_ref())),
        ("Architecture", s(&i.architecture)),
        ("Os", s(&i.os)),
        ("Layers", strings(Some(&i.layers))),
        ("Env", strings(i.env.as_deref())),
    ];
    if !i.artifact_type.is_empty() || i.annotations.is_some() {
        fields.push(("ArtifactType", s(&i.artifact_type)));
        fields.push(("Annotations", string_map(i.annotations.as_ref())));
    }
    strukt("inspect.Output", fields)
}

fn history(h: &History) -> Value {
    strukt(
        "v1.History",
        vec![
            ("Created", time(h.created.as_ref())),
            ("CreatedBy", s(&h.created_by)),
            ("Author", s(&h.author)),
            ("Comment", s(&h.comment)),
            ("EmptyLayer", Value::Bool(h.empty_layer)),
        ],
    )
}

/// image-spec's `v1.Image` (what `inspect --config` prints).
pub fn config_value(c: &OciImage) -> Value {
    let cfg = &c.config;
    strukt(
        "v1.Image",
        vec![
            ("Created", time(c.created.as_ref())),
            ("Author", s(&c.author)),
            ("Architecture", s(&c.architecture)),
            ("Variant", s(&c.variant)),
            ("OS", s(&c.os)),
            ("OSVersion", s(&c.os_version)),
            ("OSFeatures", strings(c.os_features.as_deref())),
            (
                "Config",
                strukt(
                    "v1.ImageConfig",
                    vec![
                        ("User", s(&cfg.user)),
                        ("ExposedPorts", set(cfg.exposed_ports.as_ref())),
                        ("Env", strings(cfg.env.as_deref())),
                        ("Entrypoint", strings(cfg.entrypoint.as_deref())),
                        ("Cmd", strings(cfg.cmd.as_deref())),
                        ("Volumes", set(cfg.volumes.as_ref())),
                        ("WorkingDir", s(&cfg.working_dir)),
                        ("Labels", string_map(cfg.labels.as_ref())),
                        ("StopSignal", s(&cfg.stop_signal)),
                        ("ArgsEscaped", Value::Bool(cfg.args_escaped)),
                    ],
                ),
            ),
            (
                "RootFS",
                strukt(
                    "v1.RootFS",
                    vec![
                        ("Type", s(&c.rootfs.kind)),
                        ("DiffIDs", strings(c.rootfs.diff_ids.as_deref())),
                    ],
                ),
            ),
            (
                "History",
                Value::List(
                    c.history
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .map(history)
                        .collect(),
                ),
            ),
        ],
    )
}
