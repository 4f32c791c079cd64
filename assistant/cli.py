"""`coopter` command line: ingest, ask, chat, eval, ui, users, config.

Each command is a thin wrapper over the Python API. Heavy libraries are imported inside the
commands so that `coopter --help` is instant. User-facing errors (CoopterError) are printed
as one French line; the exit code says what happened.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import cli_fr
from .errors import CoopterError

cli_fr.install()  # click's usage errors and help headings in French

EXIT_SKIPPED = 3  # ingestion finished but some files were skipped
ROLE_CHOICE = click.Choice(["public", "community", "staff"])


def _settings(ctx: click.Context, **overrides):
    from .settings import load_settings

    try:
        base = load_settings(ctx.obj.get("config") if ctx.obj else None)
        return base.with_overrides(**overrides)
    except CoopterError as exc:
        _fail(exc)


def _fail(exc: Exception, code: int = 2):
    click.echo(f"Erreur : {exc}", err=True)
    sys.exit(code)


def _quiet_libraries() -> None:
    import logging
    import os
    import warnings

    from ingest.embedder import set_offline_env

    set_offline_env()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    warnings.filterwarnings("ignore")
    for name in ("chromadb", "sentence_transformers", "transformers", "httpx", "bm25s"):
        logging.getLogger(name).setLevel(logging.ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.option("--config", type=click.Path(dir_okay=False), help="Fichier TOML de réglages (sinon $COOPTER_CONFIG ou ./coopter.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé sur la sortie d'erreur.")
@click.version_option(package_name="coopter-assistant")
@click.pass_context
def main(ctx, config, verbose):
    """Assistant documentaire du programme COOP'TER (ADEME).

    \b
    Démarrage :
      coopter ingest                 indexe le corpus livré (corpus/) dans data/store
      coopter ask "Qu'est-ce qu'un PTCE ?"
      coopter chat --role community  conversation avec questions de suivi
      coopter ui                     application web (Streamlit)
    """
    import logging

    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not verbose:
        # Every message once, in French: the command prints what the report holds (a skipped
        # file), and libraries' own warnings (pypdf's « EOF marker not found ») are for --verbose.
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda record: not getattr(record, "in_report", False))
        for name in ("pypdf", "fpdf", "PIL"):
            logging.getLogger(name).setLevel(logging.ERROR)


@main.command()
@click.argument("corpus_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base (défaut : data/store ou $COOPTER_STORE).")
@click.option("--prune/--no-prune", default=True, show_default=True, help="Retirer de la base les documents absents du corpus.")
@click.option("--rebuild", is_flag=True, help="Reconstruire la base de zéro (après un changement de modèle d'embedding).")
@click.option("--json", "as_json", is_flag=True, help="Rapport JSON sur la sortie standard.")
@click.option("--progress/--no-progress", default=None, help="Barre de progression (par défaut : si terminal).")
@click.pass_context
def ingest(ctx, corpus_dir, store, prune, rebuild, as_json, progress):
    """Indexe CORPUS_DIR (défaut : le corpus livré) : découpe, vectorise, écrit dans Chroma.

    Incrémental : un document inchangé n'est pas revectorisé, un document modifié est remplacé,
    un document retiré du corpus est purgé. Code de sortie 3 si des fichiers ont été ignorés.
    """
    settings = _settings(ctx, store=store, corpus_dir=corpus_dir)
    _quiet_libraries()
    from ingest import run

    if progress is None:
        progress = sys.stderr.isatty() and not as_json
    try:
        report = run(settings, prune=prune, progress=progress, rebuild=rebuild)
    except CoopterError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for s in report.skipped:
            click.echo(f"ignoré : {s}", err=True)
        for n in report.notes:
            click.echo(f"note : {n}", err=True)
        click.echo(f"Base {report.store} : {report.summary_fr()}")
    sys.exit(0 if report.ok else EXIT_SKIPPED)


EXIT_MISMATCH = 1  # `coopter check`: the store, the index and the corpus disagree


@main.command()
@click.argument("corpus_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.option("--repair", is_flag=True, help="Réingérer ce qu'il faut pour corriger les écarts trouvés.")
@click.option("--quick", is_flag=True, help="Ne pas redécouper les fichiers (pas de modèle chargé ; moins complet).")
@click.option("--json", "as_json", is_flag=True, help="Rapport JSON sur la sortie standard.")
@click.pass_context
def check(ctx, corpus_dir, store, repair, quick, as_json):
    """Vérifie que la base vectorielle, l'index lexical, l'inventaire et le corpus concordent :
    passages en double, orphelins, empreintes différentes. Code de sortie 1 s'il y a un écart ;
    --repair réingère ce qui est nécessaire puis vérifie de nouveau."""
    settings = _settings(ctx, store=store, corpus_dir=corpus_dir)
    _quiet_libraries()
    from ingest.check import check as run_check
    from ingest.check import repair as run_repair

    try:
        if repair:
            result = run_repair(settings, deep=not quick, progress=sys.stderr.isatty() and not as_json)
            before, report = result.before, result.after
        else:
            before = report = run_check(settings, deep=not quick)
    except CoopterError as exc:
        _fail(exc)
    if as_json:
        out = report.to_json()
        if repair:
            out["before"] = before.to_json()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if repair and not before.ok:
            click.echo(f"Avant réparation : {len(before.issues)} écart(s).")
            for issue in before.issues:
                click.echo(f"  - {issue}")
        for w in report.warnings:
            click.echo(f"note : {w}", err=True)
        for issue in report.issues:
            click.echo(f"écart : {issue}")
        click.echo(report.summary_fr())
    sys.exit(0 if report.ok else EXIT_MISMATCH)


def _filters(types, themes, date_from, date_to):
    from .retrieval import Filters

    return Filters(types=list(types), themes=list(themes), date_from=date_from or "", date_to=date_to or "")


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources :")
        for c in answer.citations:
            where = " — ".join(x for x in (c.section, f"p. {c.page}" if c.page else "") if x)
            click.echo(f"  [{c.n}] {c.title}" + (f" ({where})" if where else "") + (f" — {c.source}" if c.source else ""))


_filter_options = [
    click.option("--type", "types", multiple=True, type=click.Choice(["note", "guide", "fiche-projet", "article", "page"]), help="Limiter à un type de document (répétable)."),
    click.option("--theme", "themes", multiple=True, help="Limiter à un thème, ex. « ptce » (répétable)."),
    click.option("--since", "date_from", help="Documents datés de cette date ou après (AAAA[-MM[-JJ]])."),
    click.option("--until", "date_to", help="Documents datés de cette date ou avant."),
]


def _with_filters(f):
    for opt in reversed(_filter_options):
        f = opt(f)
    return f


@main.command()
@click.argument("question")
@click.option("--role", type=ROLE_CHOICE, default="public", show_default=True, help="Profil de l'utilisateur.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.option("--backend", type=click.Choice(["extractive", "openai", "llamacpp"]), help="Moteur de réponse.")
@click.option("--json", "as_json", is_flag=True, help="Un objet JSON par question.")
@_with_filters
@click.pass_context
def ask(ctx, question, role, store, backend, as_json, types, themes, date_from, date_to):
    """Répond à QUESTION, avec ses sources. « - » lit une question par ligne sur l'entrée standard
    et répond dans l'ordre (modèles chargés une seule fois) : réponses séparées par une ligne vide,
    ou un objet JSON par ligne avec --json."""
    if not question.strip():
        _fail(CoopterError("la question est vide : écrivez une question, ex. coopter ask \"Qu'est-ce qu'un PTCE ?\""))
    settings = _settings(ctx, store=store, backend=backend)
    _quiet_libraries()
    from .engine import Assistant

    filters = _filters(types, themes, date_from, date_to)
    try:
        bot = Assistant(settings)
        if question == "-":
            first = True
            for line in sys.stdin:
                if line.strip():
                    if not (as_json or first):
                        click.echo()
                    _print_answer(bot.ask(line.strip(), role=role, filters=filters), as_json)
                    sys.stdout.flush()
                    first = False
            return
        _print_answer(bot.ask(question, role=role, filters=filters), as_json)
    except CoopterError as exc:
        _fail(exc)


@main.command()
@click.option("--role", type=ROLE_CHOICE, default="public", show_default=True, help="Profil de l'utilisateur.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.option("--backend", type=click.Choice(["extractive", "openai", "llamacpp"]), help="Moteur de réponse.")
@click.pass_context
def chat(ctx, role, store, backend):
    """Conversation dans le terminal, avec questions de suivi (« et pour les collectivités ? »).

    Commandes : /nouveau (nouvelle conversation), /quitter.
    """
    settings = _settings(ctx, store=store, backend=backend)
    _quiet_libraries()
    from .conversation import Conversation
    from .engine import Assistant

    try:
        bot = Assistant(settings)
    except CoopterError as exc:
        _fail(exc)
    conversation = Conversation(role=role)
    click.echo(f"Assistant COOP'TER — profil {role}. Posez votre question (/nouveau, /quitter).")
    while True:
        try:
            question = click.prompt("\nVous", prompt_suffix=" > ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        q = question.strip()
        if q in ("/quitter", "/q", "/exit"):
            return
        if q == "/nouveau":
            conversation.reset()
            click.echo("Nouvelle conversation.")
            continue
        if not q:
            continue
        try:
            final = None
            click.echo("Assistant > ", nl=False)
            for piece in bot.stream(q, role=role, conversation=conversation):
                if isinstance(piece, str):
                    if bot.llm is not None:
                        click.echo(piece, nl=False)
                else:
                    final = piece
            if bot.llm is not None:
                click.echo("\n")
            _print_answer(final, as_json=False)
        except CoopterError as exc:
            click.echo(f"\nErreur : {exc}", err=True)


@main.command(name="eval")
@click.option("--set", "set_file", type=click.Path(dir_okay=False, path_type=Path), help="Jeu de questions (défaut : evals/gold.yaml).")
@click.option("--variant", "variants", multiple=True, help="Variante(s) à évaluer (défaut : toutes).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("evals/reports/latest"), show_default=True, help="Dossier du rapport.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.option("--subset", type=click.Choice(["all", "ci"]), default="all", show_default=True, help="« ci » : le sous-ensemble rapide de la CI.")
@click.option("--split", type=click.Choice(["all", "dev", "test"]), default="all", show_default=True,
              help="Partie du jeu : dev (réglages), test (tenue à part) ou les deux, rapportées séparément.")
@click.option("--backend", type=click.Choice(["extractive", "openai", "llamacpp"]), help="Moteur de réponse.")
@click.option("--check", is_flag=True, help="Échoue (code 1) si un seuil de evals/thresholds.yaml n'est pas atteint.")
@click.pass_context
def eval_cmd(ctx, set_file, variants, report_dir, store, subset, split, backend, check):
    """Mesure la qualité : rappel@k, MRR, exactitude, citations, abstention, fuites, latence,
    sur la partie dev, test ou les deux (chacune rapportée à part)."""
    settings = _settings(ctx, store=store, backend=backend)
    _quiet_libraries()
    try:
        from evals.run import main as run_eval
    except ImportError as exc:  # pragma: no cover
        _fail(CoopterError(f"module d'évaluation indisponible : {exc}"))
    try:
        code = run_eval(settings, set_file=set_file, variants=list(variants), report_dir=report_dir, subset=subset,
                        split=split, check=check)
    except CoopterError as exc:
        _fail(exc)
    sys.exit(code)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def ui(ctx, store, streamlit_args):
    """Lance l'application web. Les options Streamlit passent telles quelles,
    ex. : coopter ui --server.port 8501 --server.headless true"""
    import os

    settings = _settings(ctx, store=store)
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    env = dict(os.environ)
    env["COOPTER_STORE"] = str(settings.store)
    if ctx.obj.get("config"):
        env["COOPTER_CONFIG"] = str(ctx.obj["config"])
    # toolbarMode minimal: users get no developer menu and no « Deploy » button (an option
    # given after it, on this command line, still wins).
    # scriptHealthCheckEnabled: ui/warmup.py runs the app once as soon as the server answers,
    # which loads the models in the server (the first visitor does not wait for them).
    # magicEnabled false, as in .streamlit/config.toml (read only from the current directory):
    # Streamlit's magic ast-parses the pages in script threads, which races with np.load on
    # CPython < 3.11.8 (gh-106905).
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal", "--server.scriptHealthCheckEnabled", "true",
           "--runner.magicEnabled", "false", *streamlit_args]
    sys.stdout.flush()
    sys.stderr.flush()
    import subprocess

    from ui.warmup import server_flags

    subprocess.Popen([sys.executable, str(app.with_name("warmup.py")), *server_flags(list(streamlit_args))],
                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Replace this process: a supervisor's SIGTERM reaches Streamlit itself, and no orphan
    # server is left holding the port.
    os.execve(sys.executable, cmd, env)


@main.command(name="export")
@click.argument("folder", metavar="DOSSIER", type=click.Path(file_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.pass_context
def export_cmd(ctx, folder, store):
    """Sauvegarde dans DOSSIER (neuf ou vide) la base (vecteurs, index lexical, inventaire),
    le fichier des comptes et les avis des utilisateurs."""
    settings = _settings(ctx, store=store)
    _quiet_libraries()
    from .backup import export_state

    try:
        report = export_state(settings, folder)
    except CoopterError as exc:
        _fail(exc)
    click.echo(report.summary_fr("Exporté vers"))


@main.command(name="import")
@click.argument("folder", metavar="DOSSIER", type=click.Path(file_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Dossier de la base.")
@click.option("--replace", is_flag=True, help="Écraser la base, les comptes et les avis déjà présents.")
@click.pass_context
def import_cmd(ctx, folder, store, replace):
    """Restaure un export de `coopter export` (vérifié : fichiers complets et intacts, même
    modèle d'embedding que la configuration). Rien n'est revectorisé."""
    settings = _settings(ctx, store=store)
    _quiet_libraries()
    from .backup import import_state

    try:
        report = import_state(settings, folder, replace=replace)
    except CoopterError as exc:
        _fail(exc)
    click.echo(report.summary_fr("Importé depuis"))


@main.group()
def users():
    """Comptes de l'application web (mots de passe hachés avec bcrypt)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="Niveau d'accès du compte.")
@click.option("--password", prompt="Mot de passe", hide_input=True, confirmation_prompt=True, help="Demandé si absent.")
@click.pass_context
def users_add(ctx, name, role, password):
    """Crée ou met à jour le compte NAME."""
    settings = _settings(ctx)
    from ui.auth import UserStore

    try:
        UserStore(settings.users_file).add(name, password, role)
    except CoopterError as exc:
        _fail(exc)
    click.echo(f"Compte « {name} » enregistré (profil {role}) dans {settings.users_file}.")


@users.command("list")
@click.pass_context
def users_list(ctx):
    """Liste les comptes et leurs profils."""
    settings = _settings(ctx)
    from ui.auth import UserStore

    for name, role in UserStore(settings.users_file).list():
        click.echo(f"{name}\t{role}")


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx, name):
    """Supprime le compte NAME."""
    settings = _settings(ctx)
    from ui.auth import UserStore

    try:
        UserStore(settings.users_file).remove(name)
    except CoopterError as exc:
        _fail(exc)
    click.echo(f"Compte « {name} » supprimé.")


@main.command()
@click.pass_context
def config(ctx):
    """Affiche les réglages en vigueur et leur origine (défaut, fichier, environnement)."""
    from .settings import describe

    for name, value, origin in describe(_settings(ctx)):
        click.echo(f"{name:22} = {value!s:45} ({origin})")


if __name__ == "__main__":  # pragma: no cover
    main()
