//! Every sentence of the interface: (key, French, English). Keep keys grouped by page.

pub const UNKNOWN: &str = "?";

pub static MESSAGES: &[(&str, &str, &str)] = &[
    // Layout.
    ("nav.skip", "Aller au contenu", "Skip to content"),
    (
        "home.tagline",
        "La plateforme collaborative des acteurs culturels du territoire.",
        "The collaborative platform of the territory's cultural actors.",
    ),
    // Errors (titles by kind).
    ("error.bad_request", "Requête invalide", "Bad request"),
    (
        "error.unauthorized",
        "Connexion nécessaire",
        "Authentication required",
    ),
    ("error.forbidden", "Accès refusé", "Access denied"),
    ("error.not_found", "Page introuvable", "Not found"),
    (
        "error.gone",
        "Ce contenu a été supprimé",
        "This content was deleted",
    ),
    ("error.conflict", "Conflit", "Conflict"),
    (
        "error.too_large",
        "Envoi trop volumineux",
        "Payload too large",
    ),
    (
        "error.unsupported_media",
        "Type de contenu non accepté",
        "Unsupported media type",
    ),
    (
        "error.validation",
        "Certaines informations sont à corriger",
        "Some fields need correcting",
    ),
    (
        "error.rate_limited",
        "Trop de tentatives, réessayez dans quelques minutes",
        "Too many attempts, try again in a few minutes",
    ),
    (
        "error.unavailable",
        "Service momentanément indisponible, réessayez dans un instant",
        "Service temporarily unavailable, please retry shortly",
    ),
    (
        "error.internal",
        "Une erreur inattendue s'est produite. L'équipe technique a été prévenue.",
        "An unexpected error occurred. The technical team has been notified.",
    ),
    (
        "error.csrf",
        "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et réessayez.",
        "The form expired or did not come from this site. Reload the page and try again.",
    ),
    (
        "error.back_home",
        "Retour à l'accueil",
        "Back to the home page",
    ),
    // Field validation.
    (
        "field.required",
        "Ce champ est obligatoire.",
        "This field is required.",
    ),
    (
        "field.too_long",
        "Ce texte est trop long.",
        "This text is too long.",
    ),
    (
        "field.username.invalid",
        "L'identifiant doit faire de 3 à 30 caractères : lettres minuscules sans accent, chiffres ou « _ ».",
        "The username must be 3 to 30 characters: lowercase letters, digits or \"_\".",
    ),
    (
        "field.username.reserved",
        "Cet identifiant est réservé, choisissez-en un autre.",
        "This username is reserved, please choose another.",
    ),
    (
        "field.username.taken",
        "Cet identifiant est déjà pris.",
        "This username is already taken.",
    ),
    (
        "field.email.invalid",
        "Cette adresse e-mail n'est pas valide.",
        "This e-mail address is not valid.",
    ),
    (
        "field.email.taken",
        "Un compte existe déjà avec cette adresse e-mail.",
        "An account already exists with this e-mail address.",
    ),
    (
        "field.password.weak",
        "Le mot de passe doit faire au moins 10 caractères et ne pas être trop courant.",
        "The password must be at least 10 characters long and not too common.",
    ),
    (
        "field.password.too_long",
        "Le mot de passe est trop long (256 caractères au plus).",
        "The password is too long (256 characters at most).",
    ),
    ("field.role.invalid", "Rôle inconnu.", "Unknown role."),
    (
        "field.kind.invalid",
        "Choisissez « personne » ou « structure ».",
        "Choose \"individual\" or \"structure\".",
    ),
    (
        "field.language.invalid",
        "Langue inconnue.",
        "Unknown language.",
    ),
    (
        "field.website.invalid",
        "L'adresse du site doit commencer par http:// ou https://.",
        "The website address must start with http:// or https://.",
    ),
    (
        "field.credentials.invalid",
        "Identifiant ou mot de passe incorrect.",
        "Wrong username or password.",
    ),
    (
        "field.image.invalid",
        "Le fichier doit être une image PNG, JPEG, GIF ou WebP.",
        "The file must be a PNG, JPEG, GIF or WebP image.",
    ),
    (
        "field.image.too_large",
        "L'image est trop lourde.",
        "The image is too large.",
    ),
    (
        "field.target.invalid",
        "Indiquez un compte sous la forme nom@serveur ou l'adresse de son profil.",
        "Give an account as name@server or the address of its profile.",
    ),
    (
        "field.target.unreachable",
        "Ce compte est introuvable ou son serveur ne répond pas.",
        "This account cannot be found or its server does not answer.",
    ),
    (
        "field.target.forbidden",
        "Cette adresse n'est pas autorisée.",
        "This address is not allowed.",
    ),
    (
        "field.token.invalid",
        "Jeton d'accès invalide ou révoqué.",
        "Invalid or revoked access token.",
    ),
];
