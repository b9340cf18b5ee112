from django.test import SimpleTestCase

from education.rendering import body_text, render_markdown


class SanitisingTests(SimpleTestCase):
    def test_a_script_renders_inert(self):
        html = render_markdown("Hello <script>alert('x')</script> there")
        self.assertNotIn("<script", html)
        self.assertNotIn("alert(", html)

    def test_event_handlers_are_removed(self):
        html = render_markdown('<p onclick="steal()">Tap</p><img src="x" onerror="steal()">')
        self.assertNotIn("onclick", html)
        self.assertNotIn("onerror", html)
        self.assertNotIn("<img", html)

    def test_javascript_links_lose_their_target(self):
        html = render_markdown("[Click me](javascript:alert(1)) and <a href='JaVaScRiPt:alert(2)'>me</a>")
        self.assertNotIn("javascript:", html.lower())
        self.assertIn("Click me", html)

    def test_iframes_are_removed(self):
        html = render_markdown('<iframe src="https://example.org/"></iframe>Text')
        self.assertNotIn("<iframe", html)

    def test_ordinary_markdown_survives(self):
        html = render_markdown("## Heading\n\n- one\n- **two**\n\n[Poison Help](tel:18002221222)")
        self.assertIn("<h2>Heading</h2>", html)
        self.assertIn("<strong>two</strong>", html)
        self.assertIn('href="tel:18002221222"', html)
        self.assertIn('rel="noopener noreferrer"', html)

    def test_list_items_count_as_sentences_for_grading(self):
        self.assertEqual(
            body_text(render_markdown("Intro text.\n\n- one thing\n- two things")),
            "Intro text.\none thing.\ntwo things.",
        )
