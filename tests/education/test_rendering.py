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
        self.assertNotIn("onerror", html)
        self.assertNotIn('src="x"', html)  # only the portal's own icons keep an address

    def test_javascript_links_lose_their_target(self):
        html = render_markdown("[Click me](javascript:alert(1)) and <a href='JaVaScRiPt:alert(2)'>me</a>")
        self.assertNotIn("javascript:", html.lower())
        self.assertIn("Click me", html)

    def test_only_headings_keep_an_id_and_no_handler_survives_on_them(self):
        html = render_markdown('<h2 id="x" onclick="alert(1)">Hi</h2><p id="y">Text</p>')
        self.assertIn('<h2 id="x">Hi</h2>', html)
        self.assertIn("<p>Text</p>", html)

    def test_iframes_are_removed(self):
        html = render_markdown('<iframe src="https://example.org/"></iframe>Text')
        self.assertNotIn("<iframe", html)

    def test_ordinary_markdown_survives(self):
        html = render_markdown("## Heading\n\n- one\n- **two**\n\n[Poison Help](tel:18002221222)")
        self.assertIn('<h2 id="heading">Heading</h2>', html)  # the anchor a quiz result links to
        self.assertIn("<strong>two</strong>", html)
        self.assertIn('href="tel:18002221222"', html)
        self.assertIn('rel="noopener noreferrer"', html)

    def test_list_items_count_as_sentences_for_grading(self):
        self.assertEqual(
            body_text(render_markdown("Intro text.\n\n- one thing\n- two things")),
            "Intro text.\none thing.\ntwo things.",
        )
