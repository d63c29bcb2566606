use super::*;
use serde_json::json;

/// Runs a table of `[comment, target, patch, outcome]` rows. The outcome is
/// `{"ok": result}`, or `{"400": message}` / `{"422": message}` where a null message
/// accepts any. Strategic merge reads the kind from the target, as the server does.
fn check(patch_type: PatchType, table: &str) {
    let rows: Vec<(String, Value, Value, Value)> =
        serde_json::from_str(table).expect("test table is valid JSON");
    for (comment, target, patch, outcome) in rows {
        let kind = target
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut got = match apply(patch_type, kind, &target, &patch) {
            Ok(patched) => json!({ "ok": patched }),
            Err(PatchError::Malformed(message)) => json!({ "400": message }),
            Err(PatchError::Unprocessable(message)) => json!({ "422": message }),
        };
        for status in ["400", "422"] {
            if let (Some(Value::Null), Some(message)) = (outcome.get(status), got.get_mut(status)) {
                message.take();
            }
        }
        assert_eq!(got, outcome, "{comment}");
        if patch_type == PatchType::StrategicMerge {
            assert!(
                !has_directive(&got),
                "{comment}: directive leaked into {got}"
            );
        }
    }
}

fn has_directive(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.starts_with('$') || has_directive(v)),
        Value::Array(items) => items.iter().any(has_directive),
        _ => false,
    }
}

#[test]
fn content_types() {
    let parse = PatchType::from_content_type;
    assert_eq!(
        parse("application/merge-patch+json"),
        Some(PatchType::Merge)
    );
    assert_eq!(
        parse("application/json-patch+json; charset=utf-8"),
        Some(PatchType::Json)
    );
    let smp = Some(PatchType::StrategicMerge);
    assert_eq!(parse("Application/Strategic-Merge-Patch+JSON"), smp);
    assert_eq!(parse("application/apply-patch+yaml"), None);
    assert_eq!(parse("application/json"), None);
}

#[test]
fn json_patch_rfc6902_appendix() {
    check(
        PatchType::Json,
        r#"[
["A.1 add object member", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"ok": {"baz": "qux", "foo": "bar"}}],
["A.2 add array element", {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"ok": {"foo": ["bar", "qux", "baz"]}}],
["A.3 remove object member", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"ok": {"foo": "bar"}}],
["A.4 remove array element", {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"ok": {"foo": ["bar", "baz"]}}],
["A.5 replace", {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"ok": {"baz": "boo", "foo": "bar"}}],
["A.6 move value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
  [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}], {"ok": {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}}],
["A.7 move array element", {"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
  {"ok": {"foo": ["all", "cows", "eat", "grass"]}}],
["A.8 test success", {"baz": "qux", "foo": ["a", 2, "c"]}, [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
  {"ok": {"baz": "qux", "foo": ["a", 2, "c"]}}],
["A.9 test failure", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], {"422": "testing value /baz failed"}],
["A.10 add nested member", {"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"ok": {"foo": "bar", "child": {"grandchild": {}}}}],
["A.12 add to nonexistent target", {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}],
  {"422": "add operation does not apply: doc is missing path: \"/baz/bat\""}],
["A.14 ~ escape ordering", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"ok": {"/": 9, "~1": 10}}],
["A.15 string is not number", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], {"422": "testing value /~01 failed"}],
["A.16 add array value with -", {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"ok": {"foo": ["bar", ["abc", "def"]]}}]
]"#,
    );
}

#[test]
fn json_patch_rules_and_errors() {
    check(
        PatchType::Json,
        r#"[
["escapes in add and remove", {"~1": 1}, [{"op": "add", "path": "/a~1b~0c", "value": 2}, {"op": "remove", "path": "/~01"}], {"ok": {"a/b~c": 2}}],
["copy", {"a": {"b": [1]}}, [{"op": "copy", "from": "/a/b", "path": "/c"}], {"ok": {"a": {"b": [1]}, "c": [1]}}],
["add at the root replaces the document", {"a": 1}, [{"op": "add", "path": "", "value": [1]}], {"ok": [1]}],
["numbers compare by value", {"n": 1, "l": [2.0]}, [{"op": "test", "path": "", "value": {"n": 1.0, "l": [2]}}], {"ok": {"n": 1, "l": [2.0]}}],
["test an explicit null", {"n": null}, [{"op": "test", "path": "/n", "value": null}], {"ok": {"n": null}}],
["test a missing member", {}, [{"op": "test", "path": "/metadata/name", "value": "x"}], {"422": "testing value /metadata/name failed"}],
["add at index == len", {"a": [0, 1]}, [{"op": "add", "path": "/a/2", "value": 2}], {"ok": {"a": [0, 1, 2]}}],
["add past the end", {"a": [0, 1]}, [{"op": "add", "path": "/a/3", "value": 3}], {"422": "add operation does not apply: index out of range: \"/a/3\""}],
["leading zero index", {"a": [0, 1]}, [{"op": "add", "path": "/a/01", "value": 3}], {"422": null}],
["signed index", {"a": [0, 1]}, [{"op": "remove", "path": "/a/+1"}], {"422": null}],
["replace at index == len", {"a": [0, 1]}, [{"op": "replace", "path": "/a/2", "value": 3}], {"422": "replace operation does not apply: doc is missing key: /a/2"}],
["remove -", {"a": [0, 1]}, [{"op": "remove", "path": "/a/-"}], {"422": "remove operation does not apply: doc is missing path: \"/a/-\""}],
["replace a missing key", {"spec": {}}, [{"op": "replace", "path": "/spec/y", "value": 1}], {"422": "replace operation does not apply: doc is missing key: /spec/y"}],
["move from a missing path", {}, [{"op": "move", "from": "/a", "path": "/b"}], {"422": "move operation does not apply: doc is missing from path: \"/a\""}],
["move into its own child", {"a": {"b": {}}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], {"422": "move operation does not apply: /a/b/c is a child of /a"}],
["atomic: a later failure discards earlier operations", {"a": 1}, [{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/zzz"}], {"422": null}],
["not an array", {}, {"op": "add", "path": "/a", "value": 1}, {"400": "JSON patch must be an array of operations"}],
["operation not an object", {}, [1], {"400": null}],
["unknown op", {}, [{"op": "frobnicate", "path": "/a"}], {"400": "Unexpected kind: frobnicate"}],
["missing value", {}, [{"op": "add", "path": "/a"}], {"400": "operation is missing \"value\""}],
["missing from", {}, [{"op": "copy", "path": "/a"}], {"400": "operation is missing \"from\""}],
["pointer without leading slash", {"a": 1}, [{"op": "remove", "path": "a"}], {"400": "JSON pointer \"a\" must start with '/'"}],
["bad escape", {"a": 1}, [{"op": "remove", "path": "/a~2"}], {"400": "JSON pointer \"/a~2\" has an invalid '~' escape"}],
["dangling escape", {"a": 1}, [{"op": "remove", "path": "/a~"}], {"400": null}],
["malformed wins over an earlier failing op", {}, [{"op": "remove", "path": "/zzz"}, {"op": "bogus", "path": "/a"}], {"400": null}]
]"#,
    );
}

#[test]
fn merge_patch_rfc7386_appendix() {
    let rows: Vec<(Value, Value, Value)> = serde_json::from_str(
        r#"[
[{"a": "b"}, {"a": "c"}, {"a": "c"}],
[{"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}],
[{"a": "b"}, {"a": null}, {}],
[{"a": "b", "b": "c"}, {"a": null}, {"b": "c"}],
[{"a": ["b"]}, {"a": "c"}, {"a": "c"}],
[{"a": "c"}, {"a": ["b"]}, {"a": ["b"]}],
[{"a": {"b": "c"}}, {"a": {"b": "d", "c": null}}, {"a": {"b": "d"}}],
[{"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}],
[["a", "b"], ["c", "d"], ["c", "d"]],
[{"a": "b"}, ["c"], ["c"]],
[{"a": "foo"}, null, null],
[{"a": "foo"}, "bar", "bar"],
[{"e": null}, {"a": 1}, {"e": null, "a": 1}],
[[1, 2], {"a": "b", "c": null}, {"a": "b"}],
[{}, {"a": {"bb": {"ccc": null}}}, {"a": {"bb": {}}}]
]"#,
    )
    .expect("test table is valid JSON");
    for (mut target, patch, expected) in rows {
        merge_patch(&mut target, &patch);
        assert_eq!(target, expected, "patch {patch}");
    }
    check(
        PatchType::Merge,
        r#"[
["lists are replaced", {"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": ["b"]}}, {"ok": {"metadata": {"finalizers": ["b"]}}}],
["Kubernetes wants an object", {}, ["c"], {"400": "merge patch must be an object"}]
]"#,
    );
}

#[test]
fn strategic_merge_lists() {
    check(
        PatchType::StrategicMerge,
        r#"[
["maps merge and null deletes", {"kind": "ConfigMap", "metadata": {"labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}},
  {"metadata": {"labels": {"a": null, "c": "3"}}, "data": null, "new": {"x": null, "y": 1}},
  {"ok": {"kind": "ConfigMap", "metadata": {"labels": {"b": "2", "c": "3"}}, "new": {"y": 1}}}],
["finalizers are a set union", {"kind": "ConfigMap", "metadata": {"finalizers": ["a", "b"]}}, {"metadata": {"finalizers": ["c", "b", "c"]}},
  {"ok": {"kind": "ConfigMap", "metadata": {"finalizers": ["a", "b", "c"]}}}],
["ownerReferences merge by uid", {"kind": "Deployment", "metadata": {"ownerReferences": [{"uid": "1", "name": "x"}, {"uid": "2", "name": "y"}]}},
  {"metadata": {"ownerReferences": [{"uid": "2", "controller": true}, {"uid": "3", "name": "z"}]}},
  {"ok": {"kind": "Deployment", "metadata": {"ownerReferences": [{"uid": "1", "name": "x"}, {"uid": "2", "name": "y", "controller": true}, {"uid": "3", "name": "z"}]}}}],
["ServiceAccount secrets merge by name", {"kind": "ServiceAccount", "secrets": [{"name": "a"}], "imagePullSecrets": [{"name": "p"}]},
  {"secrets": [{"name": "b"}, {"name": "a"}], "imagePullSecrets": [{"name": "q"}]},
  {"ok": {"kind": "ServiceAccount", "secrets": [{"name": "a"}, {"name": "b"}], "imagePullSecrets": [{"name": "p"}, {"name": "q"}]}}],
["the same field of an unknown kind is replaced wholesale", {"kind": "Widget", "secrets": [{"name": "a"}]}, {"secrets": [{"name": "b"}]},
  {"ok": {"kind": "Widget", "secrets": [{"name": "b"}]}}],
["an unlisted field of a known kind is replaced wholesale", {"kind": "Pod", "spec": {"tolerations": [{"key": "a"}]}}, {"spec": {"tolerations": [{"key": "b"}]}},
  {"ok": {"kind": "Pod", "spec": {"tolerations": [{"key": "b"}]}}}],
["Pod containers, env and ports merge by their keys",
  {"kind": "Pod", "spec": {"containers": [{"name": "app", "image": "v1", "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}, {"name": "side"}]}},
  {"spec": {"containers": [{"name": "app", "image": "v2", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}], "ports": [{"containerPort": 80, "name": "http"}]}]}},
  {"ok": {"kind": "Pod", "spec": {"containers": [{"name": "app", "image": "v2", "env": [{"name": "A", "value": "9"}, {"name": "B", "value": "2"}],
"ports": [{"containerPort": 80, "name": "http"}]}, {"name": "side"}]}}}],
["Node conditions and addresses merge by type",
  {"kind": "Node", "status": {"conditions": [{"type": "Ready", "status": "False"}], "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}},
  {"status": {"conditions": [{"type": "Ready", "status": "True"}], "addresses": [{"type": "Hostname", "address": "n1"}]}},
  {"ok": {"kind": "Node", "status": {"conditions": [{"type": "Ready", "status": "True"}], "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n1"}]}}}],
["Namespace conditions merge by type", {"kind": "Namespace", "status": {"conditions": [{"type": "A", "status": "True"}]}},
  {"status": {"conditions": [{"type": "B", "status": "True"}]}},
  {"ok": {"kind": "Namespace", "status": {"conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "True"}]}}}],
["a Deployment's pod template merges containers, mounts and volumes by their keys",
  {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "v1", "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}],
    "volumes": [{"name": "config", "configMap": {"name": "c"}}]}}}},
  {"spec": {"template": {"spec": {"containers": [{"name": "app", "volumeMounts": [{"name": "hosts", "mountPath": "/etc/hosts-dir"}]}],
    "volumes": [{"name": "hosts", "secret": {"secretName": "h"}}]}}}},
  {"ok": {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "v1",
    "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "hosts", "mountPath": "/etc/hosts-dir"}]}],
    "volumes": [{"name": "config", "configMap": {"name": "c"}}, {"name": "hosts", "secret": {"secretName": "h"}}]}}}}}]
]"#,
    );
}

#[test]
fn strategic_merge_directives() {
    check(
        PatchType::StrategicMerge,
        r#"[
["$patch: delete removes a list item", {"kind": "ServiceAccount", "secrets": [{"name": "a"}, {"name": "b"}]},
  {"secrets": [{"$patch": "delete", "name": "a"}, {"$patch": "delete", "name": "zzz"}]}, {"ok": {"kind": "ServiceAccount", "secrets": [{"name": "b"}]}}],
["$patch: replace element replaces the list", {"kind": "ServiceAccount", "secrets": [{"name": "a"}, {"name": "b"}]},
  {"secrets": [{"name": "c"}, {"$patch": "replace"}]}, {"ok": {"kind": "ServiceAccount", "secrets": [{"name": "c"}]}}],
["$patch: replace and delete on maps", {"kind": "Pod", "metadata": {"labels": {"a": "1", "b": "2"}, "name": "n"}, "spec": {"x": 1}},
  {"metadata": {"labels": {"$patch": "replace", "c": "3"}}, "spec": {"$patch": "delete"}}, {"ok": {"kind": "Pod", "metadata": {"labels": {"c": "3"}, "name": "n"}}}],
["$patch: merge is the default", {"kind": "Pod", "spec": {"x": 1}}, {"spec": {"$patch": "merge", "y": 2}}, {"ok": {"kind": "Pod", "spec": {"x": 1, "y": 2}}}],
["$deleteFromPrimitiveList/finalizers", {"kind": "Secret", "metadata": {"finalizers": ["a", "b", "c"]}},
  {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zzz"], "finalizers": ["d"]}}, {"ok": {"kind": "Secret", "metadata": {"finalizers": ["a", "c", "d"]}}}],
["$setElementOrder and $retainKeys are stripped", {"kind": "Service", "metadata": {"finalizers": ["a"]}, "spec": {"ports": [{"port": 80}]}},
  {"$retainKeys": ["metadata"], "metadata": {"$setElementOrder/finalizers": ["b", "a"], "finalizers": ["b"]},
   "spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}], "ports": [{"port": 443, "name": "https"}]}},
  {"ok": {"kind": "Service", "metadata": {"finalizers": ["a", "b"]}, "spec": {"ports": [{"port": 80}, {"port": 443, "name": "https"}]}}}],
["new content is cleaned of nulls and directives", {"kind": "Pod"},
  {"spec": {"containers": [{"name": "a", "x": null, "env": [{"name": "X", "$patch": "delete"}], "resources": {"$patch": "replace", "limits": {}}}]}},
  {"ok": {"kind": "Pod", "spec": {"containers": [{"name": "a", "env": [], "resources": {"limits": {}}}]}}}],
["$patch: delete at the root empties the object", {"kind": "Pod", "spec": {}}, {"$patch": "delete"}, {"ok": {}}]
]"#,
    );
}

#[test]
fn strategic_merge_rejects_malformed_patches() {
    check(
        PatchType::StrategicMerge,
        r#"[
["not an object", {"kind": "Pod"}, [], {"400": "strategic merge patch must be an object"}],
["unknown $patch", {"kind": "Pod"}, {"metadata": {"$patch": "explode"}}, {"400": "unknown $patch directive \"explode\""}],
["non-string $patch", {"kind": "Pod"}, {"metadata": {"$patch": 1}}, {"400": "unknown $patch directive 1"}],
["unknown $patch in a list item", {"kind": "ServiceAccount"}, {"secrets": [{"name": "a", "$patch": "explode"}]}, {"400": null}],
["keyed item without its merge key", {"kind": "ServiceAccount", "secrets": []}, {"secrets": [{"uid": "a"}]},
  {"400": "items of secrets must be objects with a \"name\" key"}],
["delete directive without merge key", {"kind": "ServiceAccount"}, {"secrets": [{"$patch": "delete"}]}, {"400": null}],
["primitive in a keyed list", {"kind": "ServiceAccount"}, {"secrets": ["a"]}, {"400": null}],
["unknown directive key", {"kind": "Pod"}, {"$foo": 1}, {"400": "unknown strategic merge directive \"$foo\""}],
["$deleteFromPrimitiveList needs a list", {"kind": "Pod"}, {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, {"400": null}]
]"#,
    );
}

#[test]
fn depth_is_limited() {
    let nested = |n: usize| (0..n).fold(json!(1), |v, _| json!({ "a": v }));
    let run = |t: PatchType, patch: Value| apply(t, "Pod", &json!({}), &patch);
    let malformed = |r: Result<Value, PatchError>| matches!(r, Err(PatchError::Malformed(_)));
    for t in [PatchType::Merge, PatchType::StrategicMerge] {
        assert!(run(t, nested(100)).is_ok());
        assert!(malformed(run(t, nested(101))));
    }
    // The operations array and the operation object are two of the hundred levels.
    let op = |value: Value| json!([{"op": "add", "path": "/x", "value": value}]);
    assert!(run(PatchType::Json, op(nested(98))).is_ok());
    assert!(malformed(run(PatchType::Json, op(nested(99)))));
}

/// Feeds every combination of awkward shapes through every patch type; any panic fails.
#[test]
fn garbage_never_panics() {
    let corpus: Vec<Value> = serde_json::from_str(r#"[null, 1, "s", [], {}, [null, 1, "a"],
        {"$patch": "replace"}, {"$patch": "delete", "name": 1}, [{"$patch": "replace"}],
        [{"name": null}, {"name": [1]}, {"uid": {}}], {"$setElementOrder/x": 3},
        [{"op": "move", "from": "", "path": "/a"}, {"op": "copy", "from": "", "path": "/a/b"}],
        [{"op": "add", "path": "/-", "value": 1}, {"op": "remove", "path": ""}],
        [{"op": "replace", "path": "", "value": null}, {"op": "add", "path": "/a/-/b", "value": 1}]]"#)
    .expect("corpus is valid JSON");
    let shapes = |v: &Value| {
        let mut out = vec![v.clone()];
        for f in "secrets metadata finalizers ownerReferences containers env conditions".split(' ')
        {
            out.push(json!({ f: v }));
            out.push(json!({"metadata": { f: v }, "spec": { f: [v] }}));
        }
        out
    };
    for kind in ["ServiceAccount", "Pod", "Node", "Other"] {
        for target in corpus.iter().flat_map(shapes) {
            for patch in corpus.iter().flat_map(shapes) {
                for t in [PatchType::Merge, PatchType::Json, PatchType::StrategicMerge] {
                    let result = apply(t, kind, &target, &patch);
                    if let Ok(patched) = result
                        && t == PatchType::StrategicMerge
                    {
                        assert!(!has_directive(&patched) || has_directive(&target));
                    }
                }
            }
        }
    }
}
