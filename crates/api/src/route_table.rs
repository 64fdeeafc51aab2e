//! The documented routes and the methods each answers to, for the 404/405 answers of
//! `routes::fallback`.

/// Path templates (`/api/v1/tasks/{id}`) and the methods each answers to.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param,
    /// Matches the rest of the path, however long.
    Rest,
}

impl RouteTable {
    /// The routes of an OpenAPI document, plus extra `(template, methods)` pairs; a template
    /// ending in `/*` matches any deeper path.
    pub fn new(openapi: &utoipa::openapi::OpenApi, extra: &[(&str, &[&str])]) -> Self {
        let mut table = Self::default();
        for (path, item) in &openapi.paths.paths {
            let methods = serde_json::to_value(item)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                .unwrap_or_default()
                .into_iter()
                .filter(|k| {
                    ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                        .contains(&k.as_str())
                })
                .map(|k| k.to_uppercase())
                .collect();
            table.add(path, methods);
        }
        for (path, methods) in extra {
            table.add(path, methods.iter().map(|m| (*m).to_owned()).collect());
        }
        table
    }

    fn add(&mut self, template: &str, mut methods: Vec<String>) {
        // `middleware::head` answers HEAD wherever GET is answered.
        if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
            methods.push("HEAD".to_owned());
        }
        methods.sort();
        let segments = split(template)
            .map(|s| match s {
                "*" => Segment::Rest,
                // `{id}`, and also `{token}.ics`: one path segment of any value.
                s if s.starts_with('{') => Segment::Param,
                s => Segment::Literal(s.to_owned()),
            })
            .collect();
        self.routes.push((segments, methods));
    }

    /// The methods `path` answers to, if any route matches it. Where templates overlap
    /// (`/chat/stream` and `/chat/{session_id}`), only the most specific ones count: those with
    /// the most literal segments.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = split(path).collect();
        let matching: Vec<&(Vec<Segment>, Vec<String>)> =
            self.routes.iter().filter(|(segments, _)| matches(segments, &parts)).collect();
        let literals =
            |segments: &[Segment]| segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        let most = matching.iter().map(|(segments, _)| literals(segments)).max()?;
        let mut allowed: Vec<String> = matching
            .into_iter()
            .filter(|(segments, _)| literals(segments) == most)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if allowed.is_empty() {
            return None;
        }
        allowed.sort();
        allowed.dedup();
        Some(allowed)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn matches(segments: &[Segment], parts: &[&str]) -> bool {
    match (segments.first(), parts.first()) {
        (Some(Segment::Rest), _) => true,
        (None, None) => true,
        (Some(Segment::Param), Some(_)) => matches(&segments[1..], &parts[1..]),
        (Some(Segment::Literal(lit)), Some(part)) if lit == part => matches(&segments[1..], &parts[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let mut table = RouteTable::default();
        table.add("/api/v1/me", vec!["GET".into(), "PATCH".into(), "DELETE".into()]);
        table.add("/api/v1/tasks/{id}", vec!["GET".into()]);
        table.add("/docs/*", vec!["GET".into()]);
        table.add("/api/v1/chat/stream", vec!["POST".into()]);
        table.add("/api/v1/chat/{session_id}", vec!["DELETE".into()]);
        table
    }

    #[test]
    fn known_paths_list_their_methods() {
        assert_eq!(
            table().allowed("/api/v1/me"),
            Some(vec!["DELETE".into(), "GET".into(), "HEAD".into(), "PATCH".into()])
        );
        assert_eq!(
            table().allowed("/api/v1/me/"),
            Some(vec!["DELETE".into(), "GET".into(), "HEAD".into(), "PATCH".into()])
        );
        assert_eq!(table().allowed("/api/v1/tasks/42"), Some(vec!["GET".into(), "HEAD".into()]));
        assert_eq!(table().allowed("/docs/swagger-ui.css"), Some(vec!["GET".into(), "HEAD".into()]));
    }

    #[test]
    fn the_most_specific_template_wins() {
        assert_eq!(table().allowed("/api/v1/chat/stream"), Some(vec!["POST".into()]));
        assert_eq!(table().allowed("/api/v1/chat/0193"), Some(vec!["DELETE".into()]));
    }

    #[test]
    fn unknown_paths_match_nothing() {
        assert_eq!(table().allowed("/api/v1/tasks"), None);
        assert_eq!(table().allowed("/api/v1/tasks/42/extra"), None);
        assert_eq!(table().allowed("/nope"), None);
    }
}
