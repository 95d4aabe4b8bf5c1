//! Every operation of the web target parses, uses only types, fields and arguments of
//! `schema/supergraph.graphql` (with every required argument given), and is in the
//! persisted-documents manifest exactly.

use std::collections::HashMap;

use async_graphql_parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, FieldDefinition, OperationType, Selection, SelectionSet,
    ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use roadmap_web::operations::{self, ALL};

struct Schema {
    /// Object and interface types: field name → definition.
    objects: HashMap<String, HashMap<String, FieldDefinition>>,
    /// Every named type (scalars, enums, inputs too).
    names: Vec<String>,
}

fn supergraph() -> Schema {
    let path = format!("{}/../../schema/supergraph.graphql", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: ServiceDocument = async_graphql_parser::parse_schema(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut objects = HashMap::new();
    let mut names: Vec<String> = ["ID", "String", "Int", "Float", "Boolean"].map(String::from).to_vec();
    for def in doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            let t = t.node;
            names.push(t.name.node.to_string());
            let fields = match t.kind {
                TypeKind::Object(o) => o.fields,
                TypeKind::Interface(i) => i.fields,
                _ => continue,
            };
            objects.insert(
                t.name.node.to_string(),
                fields
                    .into_iter()
                    .map(|f| (f.node.name.node.to_string(), f.node))
                    .collect(),
            );
        }
    }
    Schema { objects, names }
}

fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(n) => n.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

fn check_set(
    schema: &Schema,
    doc: &ExecutableDocument,
    parent: &str,
    set: &SelectionSet,
    path: &str,
    problems: &mut Vec<String>,
) {
    let Some(fields) = schema.objects.get(parent) else {
        problems.push(format!("{path}: `{parent}` has no fields"));
        return;
    };
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let f = &f.node;
                let name = f.name.node.as_str();
                if name == "__typename" {
                    continue;
                }
                let here = format!("{path}.{name}");
                let Some(def) = fields.get(name) else {
                    problems.push(format!("{here}: no field `{name}` on `{parent}`"));
                    continue;
                };
                for (arg, _) in &f.arguments {
                    if !def.arguments.iter().any(|a| a.node.name.node == arg.node) {
                        problems.push(format!("{here}: no argument `{}`", arg.node));
                    }
                }
                for a in &def.arguments {
                    let required = !a.node.ty.node.nullable && a.node.default_value.is_none();
                    if required && !f.arguments.iter().any(|(n, _)| n.node == a.node.name.node) {
                        problems.push(format!("{here}: required argument `{}` missing", a.node.name.node));
                    }
                }
                let ty = named(&def.ty.node);
                let is_object = schema.objects.contains_key(&ty);
                let has_set = !f.selection_set.node.items.is_empty();
                match (is_object, has_set) {
                    (true, true) => check_set(schema, doc, &ty, &f.selection_set.node, &here, problems),
                    (true, false) => problems.push(format!("{here}: `{ty}` needs a selection")),
                    (false, true) => problems.push(format!("{here}: `{ty}` is a leaf")),
                    (false, false) => {}
                }
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                match doc.fragments.get(name) {
                    Some(frag) => {
                        let on = frag.node.type_condition.node.on.node.to_string();
                        if on != parent {
                            problems.push(format!("{path}: fragment `{name}` is on `{on}`, not `{parent}`"));
                        }
                        check_set(schema, doc, &on, &frag.node.selection_set.node, path, problems);
                    }
                    None => problems.push(format!("{path}: no fragment `{name}` in the document")),
                }
            }
            Selection::InlineFragment(i) => {
                let on = i
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(parent.to_string(), |c| c.node.on.node.to_string());
                check_set(schema, doc, &on, &i.node.selection_set.node, path, problems);
            }
        }
    }
}

fn problems_of(schema: &Schema, document: &str) -> Vec<String> {
    let doc = async_graphql_parser::parse_query(document).expect("parse");
    let mut problems = Vec::new();
    if let DocumentOperations::Multiple(ops) = &doc.operations {
        for def in ops.values() {
            check_set(schema, &doc, "Query", &def.node.selection_set.node, "q", &mut problems);
        }
    }
    problems
}

#[test]
fn the_check_finds_what_the_supergraph_lacks() {
    let schema = supergraph();
    assert!(problems_of(&schema, "query Q { plan(id: \"1\") { title } }").is_empty());
    let problems = problems_of(
        &schema,
        "query Q { plan(id: \"1\") { lastUpdatedAt sections(first: 1) { title } owner } \
         territory { name } }",
    );
    assert_eq!(
        problems,
        [
            "q.plan.lastUpdatedAt: no field `lastUpdatedAt` on `Plan`",
            "q.plan.sections: no argument `first`",
            "q.plan.owner: `Organisation` needs a selection",
            "q.territory: required argument `id` missing",
        ]
    );
}

#[test]
fn every_operation_uses_only_the_supergraph() {
    let schema = supergraph();
    let mut problems = Vec::new();
    for op in ALL {
        let doc = async_graphql_parser::parse_query(op.document).unwrap_or_else(|e| panic!("{}: {e}", op.name));
        let (name, def) = match &doc.operations {
            DocumentOperations::Single(_) => panic!("{}: the operation must be named", op.name),
            DocumentOperations::Multiple(ops) => {
                assert_eq!(ops.len(), 1, "{}: one operation per document", op.name);
                let (name, def) = ops.iter().next().expect("operation");
                (name.to_string(), def)
            }
        };
        assert_eq!(name, op.name, "the constant's name is the operation's");
        for v in &def.node.variable_definitions {
            let ty = named(&v.node.var_type.node);
            assert!(schema.names.contains(&ty), "{}: unknown type {ty}", op.name);
        }
        // A subscription's fields are those of the `Subscription` root.
        let root = match def.node.ty {
            OperationType::Subscription => "Subscription",
            OperationType::Mutation => "Mutation",
            OperationType::Query => "Query",
        };
        check_set(
            &schema,
            &doc,
            root,
            &def.node.selection_set.node,
            op.name,
            &mut problems,
        );
        // Every fragment is used: an unused one would make the router refuse the document.
        for frag in doc.fragments.keys() {
            let spread = format!("...{frag}");
            assert!(op.document.contains(&spread), "{}: fragment {frag} unused", op.name);
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Like the SDL snapshot tests: a stale manifest is rewritten, and the test fails so the new
/// file is looked at and committed.
#[test]
fn the_persisted_documents_manifest_matches_the_operations() {
    let path = format!("{}/persisted-documents.json", env!("CARGO_MANIFEST_DIR"));
    let expected = operations::manifest();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != expected {
        std::fs::write(&path, &expected).expect("rewrite the manifest");
        panic!("{path} was stale and has been rewritten: review and commit it");
    }
    let parsed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&current).expect("a JSON object");
    assert_eq!(parsed.len(), ALL.len());
    for op in ALL {
        assert_eq!(parsed[&op.id()], op.document, "{}", op.name);
        assert_eq!(op.id(), operations::document_id(op.document));
        assert_eq!(op.id().len(), 64);
    }
}
