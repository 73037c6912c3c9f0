"""Fixture trees for imports.py: each rule fires, and comments and literals do not.

Run with `scripts/lint/imports.py --self-test` (or `python3 -m unittest` in this folder).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

import imports

SCRIPT = Path(__file__).resolve().parent / "imports.py"


class Tree:
    """A temporary `src` folder made of the given files."""

    def __init__(self, files: dict[str, str]):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name) / "src"
        for rel, text in {"lib.rs": "", **files}.items():
            p = self.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(text), encoding="utf-8")

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc) -> None:
        self._tmp.cleanup()

    def found(self, rule: str | None = None) -> list[tuple[str, int, str]]:
        return [
            (v.path, v.line, v.rule)
            for v in imports.check(self.root)
            if rule is None or v.rule == rule
        ]


class LayerRules(unittest.TestCase):
    def test_a_store_file_naming_services_is_reported_in_a_use_line_and_in_an_expression(self):
        with Tree(
            {
                "store/mod.rs": "pub mod jobs;\n",
                "store/jobs.rs": """\
                    use crate::services::error::Error;
                    use crate::{config, services::users::User};
                    fn f() -> Result<(), ()> {
                        let e = crate::services::error::Error::NotFound("job");
                        Err(e)
                    }
                    """,
                "services/mod.rs": "pub mod error;\npub mod users;\n",
                "services/error.rs": "",
                "services/users.rs": "",
            }
        ) as t:
            self.assertEqual(
                t.found("store-imports-services"),
                [
                    ("store/jobs.rs", 1, "store-imports-services"),
                    ("store/jobs.rs", 2, "store-imports-services"),
                    ("store/jobs.rs", 4, "store-imports-services"),
                ],
            )

    def test_a_store_file_reaching_services_through_super_is_reported(self):
        with Tree(
            {
                "store/mod.rs": "pub mod audit;\nuse super::services;\n",
                "store/audit.rs": "use super::super::services::Actor;\n",
                "services/mod.rs": "pub struct Actor;\n",
            }
        ) as t:
            self.assertEqual(
                t.found("store-imports-services"),
                [
                    ("store/audit.rs", 1, "store-imports-services"),
                    ("store/mod.rs", 2, "store-imports-services"),
                ],
            )

    def test_a_services_file_naming_any_actix_crate_is_reported(self):
        with Tree(
            {
                "services/mod.rs": """\
                    use actix_web::web;
                    fn f() {
                        actix_web::rt::spawn(async {});
                        let _ = actix_files::Files::new("/", ".");
                    }
                    #[actix_rt::test]
                    async fn t() {}
                    """,
            }
        ) as t:
            self.assertEqual(
                [line for _, line, _ in t.found("services-uses-actix")], [1, 3, 4, 6]
            )

    def test_the_work_engine_naming_services_api_or_actix_is_reported(self):
        with Tree(
            {
                "work/mod.rs": """\
                    use crate::store::work::Item;
                    use crate::services::jobs::Job;
                    fn f() { actix_web::rt::spawn(g()); }
                    fn h() { crate::api::openapi(); }
                    """,
                "store/mod.rs": "pub mod work;\n",
                "store/work.rs": "",
                "services/mod.rs": "pub mod jobs;\n",
                "services/jobs.rs": "",
                "api/mod.rs": "",
            }
        ) as t:
            self.assertEqual(
                t.found("work-imports-upper"),
                [
                    ("work/mod.rs", 2, "work-imports-upper"),
                    ("work/mod.rs", 3, "work-imports-upper"),
                    ("work/mod.rs", 4, "work-imports-upper"),
                ],
            )

    def test_the_domain_naming_any_other_module_or_actix_is_reported(self):
        with Tree(
            {
                "domain/mod.rs": "pub mod status;\n",
                "domain/status.rs": """\
                    use super::mod_item;
                    use crate::domain::status::Status;
                    use crate::store::Store;
                    fn f() { crate::services::audit::record(); }
                    fn g() { actix_web::rt::spawn(h()); }
                    """,
                "store/mod.rs": "",
                "services/mod.rs": "pub mod audit;\n",
                "services/audit.rs": "",
            }
        ) as t:
            self.assertEqual(
                t.found("domain-imports-crate"),
                [
                    ("domain/status.rs", 3, "domain-imports-crate"),
                    ("domain/status.rs", 4, "domain-imports-crate"),
                    ("domain/status.rs", 5, "domain-imports-crate"),
                ],
            )

    def test_a_connectors_file_naming_store_or_services_is_reported(self):
        with Tree(
            {
                "connectors/mod.rs": "pub mod pg;\n",
                "connectors/pg.rs": """\
                    use crate::store::DbConn;
                    fn f() { crate::services::audit::record(); }
                    use crate::config::Settings;
                    """,
                "store/mod.rs": "",
                "services/mod.rs": "pub mod audit;\n",
                "services/audit.rs": "",
                "config.rs": "",
            }
        ) as t:
            self.assertEqual(
                t.found("connectors-import-upper"),
                [
                    ("connectors/pg.rs", 1, "connectors-import-upper"),
                    ("connectors/pg.rs", 2, "connectors-import-upper"),
                ],
            )

    def test_only_api_and_the_entry_points_may_name_the_api(self):
        with Tree(
            {
                "api/mod.rs": "pub mod jobs;\npub struct Router;\n",
                "api/jobs.rs": "use crate::api::Router;\nuse super::Router as R;\n",
                "startup.rs": "use crate::api;\n",
                "services/mod.rs": "use crate::api::Router;\n",
                "crypto.rs": "fn f() { let _ = crate::api::Router; }\n",
            }
        ) as t:
            self.assertEqual(
                t.found("imports-api"),
                [("crypto.rs", 1, "imports-api"), ("services/mod.rs", 1, "imports-api")],
            )

    def test_a_clean_tree_passes_and_the_command_exits_0(self):
        with Tree(
            {
                "store/mod.rs": "use crate::config::Settings;\n",
                "services/mod.rs": "use crate::store::DbConn;\nuse tokio::spawn;\n",
                "api/mod.rs": "use actix_web::web;\nuse crate::services;\n",
                "config.rs": "pub struct Settings;\n",
            }
        ) as t:
            self.assertEqual(t.found(), [])
            run = subprocess.run(
                [sys.executable, str(SCRIPT), "--root", str(t.root)],
                capture_output=True,
                text=True,
            )
            self.assertEqual((run.returncode, run.stdout), (0, ""))

    def test_the_command_prints_path_line_rule_detail_and_exits_1(self):
        with Tree(
            {
                "store/mod.rs": "\n\nuse crate::services::error::Error;\n",
                "services/mod.rs": "pub mod error;\n",
                "services/error.rs": "",
            }
        ) as t:
            run = subprocess.run(
                [sys.executable, str(SCRIPT), "--root", str(t.root)],
                capture_output=True,
                text=True,
                cwd=t.root.parent,
            )
            self.assertEqual(run.returncode, 1)
            self.assertEqual(
                run.stdout,
                "src/store/mod.rs:3: store-imports-services: crate::services::error::Error\n",
            )


class CommentsAndLiterals(unittest.TestCase):
    def test_paths_in_comments_strings_and_chars_are_ignored_and_code_after_them_is_not(self):
        with Tree(
            {
                "store/mod.rs": '''\
                    //! Unlike crate::services::error, this module ... actix_web
                    /// See [`crate::services::Actor`].
                    // use crate::services::error::Error;
                    /* use crate::services::x; /* nested: crate::services */ still a comment
                       crate::services::y */
                    const A: &str = "crate::services::error::Error \\" crate::services";
                    const B: &str = r#"use crate::services::x; "quoted" crate::services"#;
                    const C: &[u8] = b"crate::services";
                    const D: &[u8] = br##"crate::services "# still"##;
                    const E: char = '"';
                    const F: char = '\\'';
                    const G: char = '\\\\';
                    fn f<'a>(x: &'a str) -> &'a str { x }
                    fn g() { 'outer: loop { break 'outer; } }
                    use crate::services::error::Error; // this one counts
                    ''',
                "services/mod.rs": "pub mod error;\n",
                "services/error.rs": "",
            }
        ) as t:
            self.assertEqual(t.found(), [("store/mod.rs", 15, "store-imports-services")])

    def test_actix_in_a_services_comment_or_string_is_ignored(self):
        with Tree(
            {
                "services/mod.rs": """\
                    // actix_web::rt::spawn is not used here
                    const S: &str = "actix_web";
                    /* actix_files */
                    """,
            }
        ) as t:
            self.assertEqual(t.found(), [])

    def test_dollar_crate_in_a_macro_is_not_a_path_of_this_file(self):
        with Tree(
            {
                "store/mod.rs": "macro_rules! m { () => { $crate::services::x() }; }\n",
                "services/mod.rs": "",
            }
        ) as t:
            self.assertEqual(t.found(), [])


class Cycles(unittest.TestCase):
    JOBS = {
        "services/mod.rs": "pub mod jobs;\n",
        "services/jobs/mod.rs": "pub mod engine;\npub mod runner;\npub struct Job;\n",
    }

    def test_two_files_that_import_each_other_are_one_circle_with_both_edges(self):
        with Tree(
            {
                **self.JOBS,
                "services/jobs/engine.rs": "use super::runner::Runner;\npub struct JobEngine;\n",
                "services/jobs/runner.rs": """\
                    pub struct Runner;
                    fn f() {
                        let _ = super::engine::JobEngine;
                        let _ = crate::services::jobs::engine::JobEngine;
                    }
                    """,
            }
        ) as t:
            found = [v for v in imports.check(t.root) if v.rule == "import-cycle"]
            self.assertEqual(
                [(v.path, v.line) for v in found],
                [("services/jobs/engine.rs", 1), ("services/jobs/runner.rs", 3)],
            )
            self.assertIn("-> services/jobs/runner.rs [circle 1 of 2 files", found[0].detail)
            self.assertIn("-> services/jobs/engine.rs (also lines 4)", found[1].detail)

    def test_a_circle_through_three_files_and_a_mod_rs_item_is_found(self):
        with Tree(
            {
                **self.JOBS,
                # An item of jobs/mod.rs resolves to jobs/mod.rs.
                "services/jobs/engine.rs": "use crate::services::jobs::Job;\n",
                "services/jobs/mod.rs": (
                    "pub mod engine;\npub mod runner;\npub struct Job;\n"
                    "fn f() { self::runner::run(); }\n"
                ),
                "services/jobs/runner.rs": "use super::engine;\npub fn run() {}\n",
            }
        ) as t:
            self.assertEqual(
                t.found("import-cycle"),
                [
                    ("services/jobs/engine.rs", 1, "import-cycle"),
                    ("services/jobs/mod.rs", 4, "import-cycle"),
                    ("services/jobs/runner.rs", 1, "import-cycle"),
                ],
            )

    def test_mod_declarations_bare_child_paths_and_inline_test_modules_make_no_circle(self):
        with Tree(
            {
                **self.JOBS,
                "services/jobs/mod.rs": (
                    "pub mod engine;\npub mod runner;\npub struct Job;\n"
                    "pub use engine::JobEngine;\n"
                ),
                "services/jobs/engine.rs": """\
                    use super::Job;
                    pub struct JobEngine;
                    #[cfg(test)]
                    mod tests {
                        use super::*;
                        use super::super::runner::Runner;
                    }
                    fn after_the_tests() { let _ = super::Job; }
                    """,
                "services/jobs/runner.rs": "use super::Job;\npub struct Runner;\n",
            }
        ) as t:
            self.assertEqual(t.found(), [])
            graph = imports.edges(imports.load(t.root))
            # `super` inside `mod tests` is engine.rs itself; `super::super` is jobs/.
            self.assertEqual(
                graph["services/jobs/engine.rs"],
                {"services/jobs/mod.rs": [1, 8], "services/jobs/runner.rs": [6]},
            )
            self.assertEqual(graph["services/jobs/mod.rs"], {})

    def test_paths_resolve_to_the_deepest_existing_module_file(self):
        with Tree(
            {
                **self.JOBS,
                "services/jobs/engine.rs": "",
                "services/jobs/runner.rs": "",
                "api/mod.rs": """\
                    fn f() {
                        crate::services::jobs::runner::x::y();
                        crate::services::jobs::Job::new();
                        crate::services::Ctx::default();
                        crate::services::jobs::runner::<u8>();
                    }
                    """,
            }
        ) as t:
            graph = imports.edges(imports.load(t.root))
            self.assertEqual(
                graph["api/mod.rs"],
                {
                    "services/jobs/runner.rs": [2, 5],
                    "services/jobs/mod.rs": [3],
                    "services/mod.rs": [4],
                },
            )


if __name__ == "__main__":
    unittest.main()
