"""Words that mean the same thing to a member, folded to one term before indexing and searching.

Members ask in their own words and in three languages: "aims" for objectives, "lessons" for findings,
"herramientas" for tools. Folding both the knowledge base and the question through the same groups
lets them meet. Keys are already folded (lower case, no accents) and singular (see ``retrieval._stem``).
Each group is general vocabulary of the field, not an answer: it never adds facts.
"""

from __future__ import annotations

_GROUPS: dict[str, tuple[str, ...]] = {
    "objective": ("aim", "goal", "purpose", "objectif", "objetivo", "meta", "target", "hypothesi"),
    "finding": (
        "learning",
        "lesson",
        "result",
        "resultado",
        "resultat",
        "conclusion",
        "takeaway",
        "learned",
        "learnt",
        "learn",
        "aprendizaje",
        "lecon",
        "apprentissage",
        "hallazgo",
    ),
    "tool": ("toolkit", "toolbox", "herramienta", "outil", "instrument"),
    "acronym": (
        "stand",
        "letter",
        "abbreviation",
        "sigle",
        "sigla",
        "initial",
        "signifie",
        "significa",
        "short",
        "name",
    ),
    "action": ("recommendation", "recomendacion", "recommandation", "accion", "step"),
    "city": ("municipality", "municipal", "ciudad", "ciudade", "ville", "town", "mayor"),
    "country": ("pay", "pai", "nation"),
    "organisation": ("organization", "org", "organizacion", "organisme", "entity", "enterprise", "company"),
    "internationalisation": (
        "internationalization",
        "internacionalizacion",
        "internacionalizarse",
        "internacionalizar",
        "internationaliser",
        "internationalise",
        "internationalize",
        "abroad",
        "expand",
        "expanding",
        "expansion",
    ),
    "policy": ("policymaker", "decideur", "politica", "politique", "government", "gobierno", "lawmaker"),
    "event": ("evento", "evenement", "webinar", "meeting"),
    "women": ("woman", "female", "feminist", "mujer", "mujere", "femme", "gender", "genero"),
    "stakeholder": ("partes", "interesada", "prenante"),
    "chart": ("diagram", "flowchart", "schema", "diagrama", "graph"),
    "contact": ("reach", "email", "mail", "courriel", "correo", "joindre", "contactar"),
    "topic": ("theme", "subject", "tema", "focus"),
    "consortium": (
        "consortia",
        "partnership",
        "consorcio",
        "partenariat",
        "alianza",
        "group",
        "network",
        "project",
        "proyecto",
        "projet",
        "programme",
        "program",
        "initiative",
    ),
    "sdg": ("odd", "od"),
    "sse": ("ess", "ssee"),
    "measurement": (
        "measure",
        "measuring",
        "mesure",
        "medicion",
        "medir",
        "assessment",
        "assess",
        "evaluation",
    ),
    "legal": (
        "law",
        "legislation",
        "loi",
        "ley",
        "juridique",
        "juridico",
        "regulation",
        "regulatory",
        "statute",
    ),
    "pandemic": ("covid", "coronaviru", "pandemia", "pandemie", "lockdown"),
    "transfer": ("copy", "replicate", "replication", "transferir", "transferer", "adopt"),
    "engagement": ("involvement", "involve", "participation", "participacion", "implication"),
    "impact": ("impacto", "effect"),
}

SYNONYMS: dict[str, str] = {
    variant: canonical
    for canonical, variants in _GROUPS.items()
    for variant in variants
    if variant != canonical
}


def canonical(term: str) -> str:
    """The group's term for ``term``, or ``term`` itself."""
    return SYNONYMS.get(term, term)
