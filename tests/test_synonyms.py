"""Users' words and the documents' words: « une mairie » is covered by « les collectivités »."""

from assistant.lexical import analyze, coverage
from assistant.schema import Passage
from assistant.synonyms import GROUPS, related


def _p(text: str) -> Passage:
    return Passage(chunk_id="c", text=text, meta={"doc_id": "d", "title": "Guide", "section": ""})


def test_a_user_word_is_covered_by_the_documents_word():
    passages = [_p("Les collectivités jouent un rôle de facilitateur dans les projets coopératifs.")]
    with_synonym = coverage("Quel rôle pour une mairie dans un projet coopératif ?", passages, lambda t: 1.0)
    unrelated = coverage("Quel rôle pour une brasserie dans un projet coopératif ?", passages, lambda t: 1.0)
    assert with_synonym > unrelated
    assert with_synonym == coverage("Quel rôle pour une collectivité dans un projet coopératif ?", passages, lambda t: 1.0)


def test_groups_point_to_corpus_words_only_on_the_question_side():
    [mairie] = analyze("mairie")
    assert set(analyze("collectivités")) <= related(mairie)
    assert related(analyze("brasserie")[0]) == frozenset()
    # spoken words: « une interco », « une expé », « c'est la galère »
    assert set(analyze("collectivités")) <= related(analyze("interco")[0])
    assert set(analyze("expérience")) <= related(analyze("expé")[0])
    assert set(analyze("défis")) <= related(analyze("galère")[0])
    for users, corpus in GROUPS:  # every group maps somewhere
        assert analyze(users) and analyze(corpus)


def test_corpus_words_give_the_documents_surface_words_for_a_users_word():
    from assistant.synonyms import corpus_words

    assert set(corpus_words("communes")) == {"collectivité", "collectivités"}
    assert corpus_words("boîtes") == ["entreprises"]
    assert corpus_words("brasseries") == []
