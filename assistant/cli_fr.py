"""click in French: its usage errors and help headings go through gettext's `_` and `ngettext`,
bound in each click module at import. We rebind them to a small French catalog, so that
« Invalid value for '--role' » reads « Valeur invalide pour '--role' ». A message the catalog
does not know stays as click wrote it (English), never an error.
"""

from __future__ import annotations

import importlib

CATALOG: dict[str, str] = {
    "Usage:": "Utilisation :",
    "Options": "Options ",  # click adds the colon: « Options : »
    "Commands": "Commandes ",
    "Positional arguments": "Arguments ",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Try '{command} {option}' for help.": "Aide : « {command} {option} ».",
    "Error: {message}": "Erreur : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing {param_type}": "{param_type} manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing command.": "Commande manquante.",
    "No such command {name!r}.": "Commande inconnue {name!r}.",
    "No such option {name!r}.": "Option inconnue {name!r}.",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "Aborted!": "Interrompu.",
    "default: {default}": "défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} : lecture impossible.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} : écriture impossible.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} n'est pas exécutable.",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir {filename!r} : {message}",
    "file": "Fichier",
    "directory": "Dossier",
    "path": "Chemin",
    "Do you want to continue?": "Continuer ?",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux valeurs saisies diffèrent.",
    "Error: invalid input": "Erreur : saisie invalide",
    "Confirm the action without prompting.": "Confirme l'action sans la demander.",
}
PLURALS: dict[str, tuple[str, str]] = {
    "Got unexpected extra argument ({args})": (
        "Argument en trop ({args})", "Arguments en trop ({args})"),
    "Did you mean {possibility}?": (
        "Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire l'un de : {possibilities} ?)"),
    "Option {name!r} requires an argument.": (
        "L'option {name!r} attend une valeur.", "L'option {name!r} attend {nargs} valeurs."),
    "{value!r} is not {choice}.": (
        "{value!r} n'est pas {choice}.", "{value!r} n'est pas une valeur possible ({choices})."),
    "Takes {nargs} values but 1 was given.": (
        "Attend {nargs} valeurs, 1 donnée.", "Attend {nargs} valeurs, {len} données."),
}
MODULES = ("core", "exceptions", "types", "parser", "formatting", "decorators", "termui", "utils")


def gettext_fr(message: str) -> str:
    return CATALOG.get(message, message)


def ngettext_fr(singular: str, plural: str, n: int) -> str:
    forms = PLURALS.get(singular)
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


def install() -> None:
    """Rebind `_` and `ngettext` in click's modules (idempotent)."""
    for name in MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # a click version without this module: its messages stay English
            continue
        if hasattr(module, "_"):
            module._ = gettext_fr
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext_fr
    import click.types

    # Number types name themselves in messages (« 'abc' is not a valid integer ») and metavars.
    click.types.IntParamType.name = "entier"
    click.types.FloatParamType.name = "nombre"
    click.types.StringParamType.name = "texte"
