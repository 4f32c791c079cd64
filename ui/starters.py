"""The welcome screen's entry points: (title, icon, starter questions).

Each question is answered from public documents of the shipped corpus (checked by
tests/test_ui_apptest.py), so a visitor who is not signed in gets a cited answer.
"""

ENTRY_POINTS: list[tuple[str, str, list[str]]] = [
    (
        "Je veux créer un PTCE",
        ":material/rocket_launch:",
        [
            "Qu'est-ce qu'un pôle territorial de coopération économique ?",
            "Qu'est-ce qu'un écosystème coopératif territorialisé ?",
            "Quels besoins d'accompagnement et de financement ont les coopérations territoriales ?",
        ],
    ),
    (
        "Je suis agent d'une collectivité",
        ":material/account_balance:",
        [
            "Pourquoi une collectivité a-t-elle intérêt à soutenir les coopérations territoriales ?",
            "Quels leviers une collectivité peut-elle mobiliser pour soutenir les coopérations ?",
            "Qu'est-ce que le Conseil de l'ESS de l'Eurométropole de Strasbourg ?",
        ],
    ),
    (
        "J'accompagne des projets",
        ":material/handshake:",
        [
            "Quelle posture adopter pour accompagner une coopération territoriale ?",
            "Quels acteurs peuvent accompagner la coopération sur un territoire ?",
            "Qu'est-ce que la Fabrique à initiatives ?",
        ],
    ),
]
