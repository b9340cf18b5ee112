"""The Spanish modules: what the loader refuses in them, and how each stays paired with its
English version."""

from django.test import TestCase

from education import spanish
from education.content import read_library
from education.models import Module, ModuleVersion
from tests.education.test_loader import LibraryCopyMixin
from tests.library import load_and_approve


class ShippedSpanishModulesTests(TestCase):
    def test_every_module_has_its_spanish_version_in_step_and_easy_to_read(self):
        for module in read_library():
            with self.subTest(module.slug):
                translation = module.translations["es"]
                self.assertGreaterEqual(translation.fernandez_huerta, spanish.MIN_FERNANDEZ_HUERTA)
                self.assertGreaterEqual(translation.szigriszt_pazos, spanish.MIN_SZIGRISZT_PAZOS)
                self.assertEqual(len(translation.questions), len(module.questions))
                # The same sections, in the same order, under the English anchors.
                self.assertEqual(list(translation.sections), list(module.sections))

    def test_the_spanish_emergency_card_names_the_spanish_services(self):
        body = read_library()[0].translations["es"].body_html
        for line in ("Llame al 911", "1-800-222-1222", "marque 2", "AYUDA"):
            self.assertIn(line, body)

    def test_a_module_that_discusses_misuse_gives_samhsa_in_spanish(self):
        stopping = next(m for m in read_library() if m.slug == "stopping-safely")
        self.assertIn("1-800-662-4357", stopping.translations["es"].body_html)
        self.assertIn("en inglés y en español", stopping.translations["es"].body_html)


CBT_I = 'text = "La TCC-I, un programa que enseña nuevos hábitos de sueño y formas de pensar."\n'


class RefusingSpanishFilesTests(LibraryCopyMixin, TestCase):
    SLEEP = "sleep-medicines"

    def refused_in_spanish(self, old, new, problem):
        path = self.edit(self.SLEEP, "module.es.md", old, new)
        self.assert_refused(problem, path)

    def test_double_dose_as_advice(self):
        self.refused_in_spanish(
            "Si parece que le hace menos efecto, no tome de más ni lo tome más seguido.",
            "Si parece que le hace menos efecto, tome doble dosis.",
            "advises doubling a dose",
        )

    def test_stopping_at_once_as_advice(self):
        self.refused_in_spanish(
            "Nunca deje el clonazepam de golpe.",
            "Puede suspender el clonazepam de golpe.",
            "advises stopping suddenly",
        )

    def test_a_little_alcohol(self):
        self.refused_in_spanish(
            "Nunca deje el clonazepam de golpe.",
            "Un poco de alcohol no le hará daño.",
            "implies some alcohol is fine",
        )

    def test_a_price(self):
        self.refused_in_spanish(
            "Nunca deje el clonazepam de golpe.",
            "El precio es bajo en su farmacia.",
            "a price or a sales word",
        )

    def test_a_dose(self):
        self.refused_in_spanish(
            "Nunca deje el clonazepam de golpe.", "Tome 2 mg cada noche.", "mentions a dose"
        )

    def test_hard_spanish(self):
        hard = (
            "La farmacocinética interindividual condiciona considerablemente la biodisponibilidad "
            "y la eliminación metabólica de las benzodiacepinas administradas crónicamente. "
        )
        self.refused_in_spanish("## Qué hacer\n", hard * 30 + "\n\n## Qué hacer\n", "Fernández-Huerta")

    def test_a_section_left_out(self):
        self.refused_in_spanish(
            "## Un plan de poco tiempo\n", "", "the blocks differ from the English module"
        )

    def test_the_emergency_card_left_out(self):
        self.refused_in_spanish("!!! emergency-ladder\n", "", "must show the emergency ladder once")

    def test_a_header_field_that_belongs_to_the_english_module(self):
        self.refused_in_spanish(
            'title = "Medicamentos',
            'topic = "sleep"\ntitle = "Medicamentos',
            "the rest comes from the English",
        )

    def test_the_right_answer_moved(self):
        path = self.edit(
            self.SLEEP,
            "quiz.es.toml",
            'text = "Solo buenos hábitos de sueño, como una hora fija para acostarse, antes de la TCC-I."\n',
            'text = "Solo buenos hábitos de sueño, como una hora fija para acostarse, antes de la TCC-I."\n'
            "  correct = true\n",
        )
        path = self.edit(
            self.SLEEP,
            "quiz.es.toml",
            f"{CBT_I}  correct = true\n",
            CBT_I,
        )
        self.assert_refused("question 1: the right answer must be the same choice as in English", path)

    def test_a_red_line_in_what_the_quiz_says(self):
        path = self.edit(
            self.SLEEP,
            "quiz.es.toml",
            'explanation = "Una pastilla no es el primer paso',
            'explanation = "Puede suspender el clonazepam de golpe. Una pastilla no es el primer paso',
        )
        self.assert_refused("question 1 advises stopping suddenly", path)

    def test_a_question_missing(self):
        path = self.library / self.SLEEP / "quiz.es.toml"
        text = path.read_text()
        path.write_text(text[text.index("[[questions]]", 10) :])
        self.assert_refused("the Spanish bank has 11 questions; the English one has 12", path)

    def test_a_spanish_module_without_its_quiz(self):
        (self.library / self.SLEEP / "quiz.es.toml").unlink()
        self.assert_refused("file is missing", self.library / self.SLEEP / "quiz.es.toml")


class PairingVersionsTests(LibraryCopyMixin, TestCase):
    SLEEP = "sleep-medicines"

    def setUp(self):
        super().setUp()
        load_and_approve(self.library)

    def current(self) -> ModuleVersion:
        return Module.objects.get(slug=self.SLEEP).current_version

    def test_both_languages_load_into_one_version(self):
        version = self.current()
        self.assertEqual(
            version.translations["es"]["title"], "Medicamentos para dormir: una ayuda breve, no para siempre"
        )
        question = version.questions.first()
        self.assertTrue(question.text_in("es").startswith("Hace meses que le cuesta dormir"))
        self.assertEqual(question.text_in("en"), question.text)
        self.assertEqual(version.lagging_languages, [])

    def test_a_change_to_the_spanish_alone_is_a_new_version(self):
        self.edit(self.SLEEP, "module.es.md", "Puede causar olvidos", "Le puede causar olvidos")
        report = load_and_approve(self.library)
        self.assertEqual(report.updated, [self.SLEEP])
        self.assertEqual(self.current().number, 2)

    def test_a_material_english_change_puts_the_spanish_out_of_date_until_it_follows(self):
        self.edit(self.SLEEP, "module.md", "Clonazepam is not approved", "Clonazepam is not FDA-approved")
        load_and_approve(self.library)
        version = self.current()
        self.assertEqual(version.lagging_languages, ["es"])
        # A Spanish reader gets the current English rather than a translation that lags.
        self.assertEqual(version.language_for("es"), "en")
        self.assertEqual(version.text_in("es").title, version.title)

        self.edit(self.SLEEP, "module.es.md", "No está aprobado", "La FDA no lo aprobó")
        load_and_approve(self.library)
        version = self.current()
        self.assertEqual(version.lagging_languages, [])
        self.assertEqual(version.language_for("es"), "es")

    def test_a_change_declared_not_material_leaves_the_spanish_current(self):
        self.edit(self.SLEEP, "module.md", "pass_mark = 80", "pass_mark = 80\nmaterial_change = false")
        load_and_approve(self.library)
        self.assertEqual(self.current().lagging_languages, [])
        self.assertEqual(self.current().language_for("es"), "es")

    def test_a_material_spanish_change_puts_the_english_out_of_date(self):
        self.edit(self.SLEEP, "module.es.md", "Puede causar olvidos", "Le puede causar olvidos")
        load_and_approve(self.library)
        self.assertEqual(self.current().lagging_languages, ["en"])
        # Spanish readers see their own text; English readers still see the English.
        self.assertEqual(self.current().language_for("es"), "es")

    def test_the_module_list_carries_the_spanish_title(self):
        module = Module.objects.get(slug=self.SLEEP)
        self.assertEqual(module.title_in("es"), "Medicamentos para dormir: una ayuda breve, no para siempre")
        self.assertEqual(module.title_in("en"), module.title)
