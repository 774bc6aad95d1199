//! The customer pages' words in each language a store may set ([`Locale`]), and the dates
//! and times as those languages write them.
//!
//! Why no i18n crate (Fluent, gettext): the pages are a handful of fixed sentences in four
//! languages. As a plain `match` per text, a language missing from one text is a compile
//! error rather than an English word on a German page, and there is no runtime catalogue
//! to bundle, load and parse as a Lambda starts. A sentence with values is a template whose
//! `{name}`s [`fill`] replaces in one pass, so each language puts them where its grammar
//! wants; the page escapes the whole sentence, values included.
//!
//! English is the wording the pages had before they had a locale, kept exactly.

use domain::locale::Locale;
use domain::ShipmentStatus;

/// The words of one language. Every method matches every locale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words(pub(crate) Locale);

/// `template` with each `{name}` replaced by its value; values are not searched again, so
/// a store named "{order}" stays "{order}". An unknown name is left as it is.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, values.iter().find(|(n, _)| *n == &after[..close])?)))
        {
            Some((close, (_, value))) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Words {
    // -----------------------------------------------------------------------------------
    // Dates and times. jiff's strftime names days and months in English only; these are
    // the short forms each language uses (close to CLDR's abbreviated ones).
    // -----------------------------------------------------------------------------------

    fn weekday(self, day: jiff::civil::Weekday) -> &'static str {
        let names: [&str; 7] = match self.0 {
            Locale::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            Locale::De => ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
            Locale::Fr => ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
            Locale::Es => ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
        };
        names[day.to_monday_zero_offset() as usize]
    }

    fn month(self, month: i8) -> &'static str {
        let names: [&str; 12] = match self.0 {
            Locale::En => [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ],
            Locale::De => [
                "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.",
                "Nov.", "Dez.",
            ],
            Locale::Fr => [
                "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                "nov.", "déc.",
            ],
            Locale::Es => [
                "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
            ],
        };
        names[(month.clamp(1, 12) - 1) as usize]
    }

    /// "Mon 7 Dec", "Mo. 7. Dez.", "lun. 7 déc.", "lun, 7 dic".
    pub(crate) fn day(self, date: jiff::civil::Date) -> String {
        let (weekday, day, month) = (
            self.weekday(date.weekday()),
            date.day(),
            self.month(date.month()),
        );
        match self.0 {
            Locale::En | Locale::Fr => format!("{weekday} {day} {month}"),
            Locale::De => format!("{weekday} {day}. {month}"),
            Locale::Es => format!("{weekday}, {day} {month}"),
        }
    }

    /// "Mon 7 Dec, 15:30 CET" ("Mo. 7. Dez., 15:30 CET"): a moment on the wall clock of
    /// `at`'s time zone.
    pub(crate) fn moment(self, at: &jiff::ZonedDateTime) -> String {
        format!("{}, {}", self.day(at.date()), at.strftime("%H:%M %Z"))
    }

    /// "Tue 8 Dec, 09:00–12:00 CET": a slot, its end's time zone named.
    pub(crate) fn slot(self, start: &jiff::ZonedDateTime, end: &jiff::ZonedDateTime) -> String {
        format!(
            "{}, {}–{}",
            self.day(start.date()),
            start.strftime("%H:%M"),
            end.strftime("%H:%M %Z")
        )
    }

    // -----------------------------------------------------------------------------------
    // Said on more than one page.
    // -----------------------------------------------------------------------------------

    /// `{order}`, `{store}`.
    pub(crate) fn your_order_from(self) -> &'static str {
        match self.0 {
            Locale::En => "Your order {order} from {store}",
            Locale::De => "Ihre Bestellung {order} bei {store}",
            Locale::Fr => "Votre commande {order} chez {store}",
            Locale::Es => "Su pedido {order} de {store}",
        }
    }

    pub(crate) fn thank_you(self) -> &'static str {
        match self.0 {
            Locale::En => "Thank you",
            Locale::De => "Vielen Dank",
            Locale::Fr => "Merci",
            Locale::Es => "Gracias",
        }
    }

    // -----------------------------------------------------------------------------------
    // The tracking page.
    // -----------------------------------------------------------------------------------

    /// The page's title; `{order}`.
    pub(crate) fn order_title(self) -> &'static str {
        match self.0 {
            Locale::En => "Order {order}",
            Locale::De => "Bestellung {order}",
            Locale::Fr => "Commande {order}",
            Locale::Es => "Pedido {order}",
        }
    }

    /// A status in the customer's words.
    pub(crate) fn status(self, status: ShipmentStatus) -> &'static str {
        use Locale::*;
        use ShipmentStatus::*;
        match (status, self.0) {
            (Pending | Created, En) => "Order received, preparing the delivery",
            (Pending | Created, De) => "Bestellung eingegangen, die Lieferung wird vorbereitet",
            (Pending | Created, Fr) => "Commande reçue, livraison en préparation",
            (Pending | Created, Es) => "Pedido recibido, preparando la entrega",
            (Assigned, En) => "A driver will bring it",
            (Assigned, De) => "Ein Fahrer bringt sie Ihnen",
            (Assigned, Fr) => "Un livreur va vous l’apporter",
            (Assigned, Es) => "Un repartidor se lo llevará",
            (PickedUp, En) => "Picked up by the driver",
            (PickedUp, De) => "Vom Fahrer abgeholt",
            (PickedUp, Fr) => "Prise en charge par le livreur",
            (PickedUp, Es) => "Recogido por el repartidor",
            (OutForDelivery, En) => "On the way to you",
            (OutForDelivery, De) => "Auf dem Weg zu Ihnen",
            (OutForDelivery, Fr) => "En route vers vous",
            (OutForDelivery, Es) => "En camino hacia usted",
            (Delivered, En) => "Delivered",
            (Delivered, De) => "Zugestellt",
            (Delivered, Fr) => "Livrée",
            (Delivered, Es) => "Entregado",
            (Failed, En) => "Delivery attempt failed",
            (Failed, De) => "Zustellversuch fehlgeschlagen",
            (Failed, Fr) => "Échec de la tentative de livraison",
            (Failed, Es) => "Intento de entrega fallido",
            (Returned, En) => "Returned to the store",
            (Returned, De) => "An den Shop zurückgeschickt",
            (Returned, Fr) => "Retournée à la boutique",
            (Returned, Es) => "Devuelto a la tienda",
            (NeedsClarification, En) => "We need to check your address",
            (NeedsClarification, De) => "Wir müssen Ihre Adresse prüfen",
            (NeedsClarification, Fr) => "Nous devons vérifier votre adresse",
            (NeedsClarification, Es) => "Necesitamos comprobar su dirección",
            (Cancelled, En) => "Cancelled",
            (Cancelled, De) => "Storniert",
            (Cancelled, Fr) => "Annulée",
            (Cancelled, Es) => "Cancelado",
        }
    }

    /// `{eta}`.
    pub(crate) fn expected(self) -> &'static str {
        match self.0 {
            Locale::En => "Expected {eta}.",
            Locale::De => "Voraussichtlich {eta}.",
            Locale::Fr => "Livraison prévue le {eta}.",
            Locale::Es => "Entrega prevista: {eta}.",
        }
    }

    pub(crate) fn choose_another_time(self) -> &'static str {
        match self.0 {
            Locale::En => "Choose another delivery time",
            Locale::De => "Anderen Liefertermin wählen",
            Locale::Fr => "Choisir un autre créneau de livraison",
            Locale::Es => "Elegir otra hora de entrega",
        }
    }

    /// `{reason}`: [`Words::failure_reason`].
    pub(crate) fn delivery_did_not_happen(self) -> &'static str {
        match self.0 {
            Locale::En => "The delivery did not happen: {reason}.",
            Locale::De => "Die Zustellung hat nicht geklappt: {reason}.",
            Locale::Fr => "La livraison n’a pas pu avoir lieu : {reason}.",
            Locale::Es => "No se pudo realizar la entrega: {reason}.",
        }
    }

    /// Why an attempt failed, from the courier's reason code (read as the domain reads it
    /// for the store's messages); a code that says nothing, in general words.
    pub(crate) fn failure_reason(self, code: Option<&str>) -> &'static str {
        let english = code.and_then(domain::notify::templates::failure_reason_text);
        let Some(english) = english else {
            return match self.0 {
                Locale::En => "the courier could not deliver it",
                Locale::De => "der Kurier konnte sie nicht zustellen",
                Locale::Fr => "le livreur n’a pas pu la livrer",
                Locale::Es => "el repartidor no pudo entregarlo",
            };
        };
        let [de, fr, es] = match english {
            "nobody was available to receive it" => [
                "niemand war da, um sie anzunehmen",
                "personne n’était là pour la réceptionner",
                "no había nadie para recibirlo",
            ],
            "the parcel was refused" => [
                "die Annahme des Pakets wurde verweigert",
                "le colis a été refusé",
                "se rechazó el paquete",
            ],
            "the courier could not find the address" => [
                "der Kurier hat die Adresse nicht gefunden",
                "le livreur n’a pas trouvé l’adresse",
                "el repartidor no encontró la dirección",
            ],
            "the courier could not get access to the address" => [
                "der Kurier hatte keinen Zugang zur Adresse",
                "le livreur n’a pas pu accéder à l’adresse",
                "el repartidor no pudo acceder a la dirección",
            ],
            "the parcel was damaged" => [
                "das Paket war beschädigt",
                "le colis était endommagé",
                "el paquete estaba dañado",
            ],
            "the payment due on delivery could not be collected" => [
                "die Zahlung bei Lieferung konnte nicht kassiert werden",
                "le paiement à la livraison n’a pas pu être encaissé",
                "no se pudo cobrar el pago contra reembolso",
            ],
            "the required ID check could not be done" => [
                "die nötige Ausweiskontrolle war nicht möglich",
                "la vérification d’identité requise n’a pas pu être faite",
                "no se pudo hacer la comprobación de identidad necesaria",
            ],
            "the courier was delayed" => [
                "der Kurier hat sich verspätet",
                "le livreur a été retardé",
                "el repartidor sufrió un retraso",
            ],
            // A reason the domain learnt since: in general words rather than in English.
            _ => [
                "der Kurier konnte sie nicht zustellen",
                "le livreur n’a pas pu la livrer",
                "el repartidor no pudo entregarlo",
            ],
        };
        match self.0 {
            Locale::En => english,
            Locale::De => de,
            Locale::Fr => fr,
            Locale::Es => es,
        }
    }

    pub(crate) fn courier(self) -> &'static str {
        match self.0 {
            Locale::En => "Courier",
            Locale::De => "Lieferdienst",
            Locale::Fr => "Transporteur",
            Locale::Es => "Mensajería",
        }
    }

    /// The courier when its name is not known.
    pub(crate) fn the_courier(self) -> &'static str {
        match self.0 {
            Locale::En => "the courier",
            Locale::De => "der Lieferdienst",
            Locale::Fr => "le transporteur",
            Locale::Es => "la mensajería",
        }
    }

    pub(crate) fn tracking_number(self) -> &'static str {
        match self.0 {
            Locale::En => "Tracking number",
            Locale::De => "Sendungsnummer",
            Locale::Fr => "Numéro de suivi",
            Locale::Es => "Número de seguimiento",
        }
    }

    pub(crate) fn delivering_to(self) -> &'static str {
        match self.0 {
            Locale::En => "Delivering to",
            Locale::De => "Lieferadresse",
            Locale::Fr => "Adresse de livraison",
            Locale::Es => "Dirección de entrega",
        }
    }

    pub(crate) fn so_far(self) -> &'static str {
        match self.0 {
            Locale::En => "So far",
            Locale::De => "Bisher",
            Locale::Fr => "Jusqu’ici",
            Locale::Es => "Hasta ahora",
        }
    }

    pub(crate) fn proof_of_delivery(self) -> &'static str {
        match self.0 {
            Locale::En => "Proof of delivery",
            Locale::De => "Zustellnachweis",
            Locale::Fr => "Preuve de livraison",
            Locale::Es => "Prueba de entrega",
        }
    }

    pub(crate) fn signed_by(self) -> &'static str {
        match self.0 {
            Locale::En => "Signed by",
            Locale::De => "Unterschrieben von",
            Locale::Fr => "Signé par",
            Locale::Es => "Firmado por",
        }
    }

    /// Beside the moment of the delivery.
    pub(crate) fn delivered_at(self) -> &'static str {
        match self.0 {
            Locale::En => "Delivered",
            Locale::De => "Zugestellt",
            Locale::Fr => "Livrée le",
            Locale::Es => "Entregado el",
        }
    }

    pub(crate) fn photos(self) -> &'static str {
        match self.0 {
            Locale::En => "Photos",
            Locale::De => "Fotos",
            Locale::Fr => "Photos",
            Locale::Es => "Fotos",
        }
    }

    /// How many photos the driver took.
    pub(crate) fn photos_taken(self, count: usize) -> String {
        match (self.0, count) {
            (Locale::En, n) => format!("{n} taken at the door"),
            (Locale::De, n) => format!("{n} an der Tür aufgenommen"),
            (Locale::Fr, 1) => "1 prise à la porte".to_owned(),
            (Locale::Fr, n) => format!("{n} prises à la porte"),
            (Locale::Es, 1) => "1 tomada en la puerta".to_owned(),
            (Locale::Es, n) => format!("{n} tomadas en la puerta"),
        }
    }

    pub(crate) fn drivers_note(self) -> &'static str {
        match self.0 {
            Locale::En => "Driver's note",
            Locale::De => "Notiz des Fahrers",
            Locale::Fr => "Note du livreur",
            Locale::Es => "Nota del repartidor",
        }
    }

    // -----------------------------------------------------------------------------------
    // The fix-my-address page.
    // -----------------------------------------------------------------------------------

    pub(crate) fn check_your_address(self) -> &'static str {
        match self.0 {
            Locale::En => "Check your delivery address",
            Locale::De => "Prüfen Sie Ihre Lieferadresse",
            Locale::Fr => "Vérifiez votre adresse de livraison",
            Locale::Es => "Compruebe su dirección de entrega",
        }
    }

    /// `{order}`, `{store}`.
    pub(crate) fn address_not_found_intro(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "The courier could not find this address for your order {order} from {store}. \
                 Please correct it, and we will send your order on its way."
            }
            Locale::De => {
                "Der Kurier konnte diese Adresse für Ihre Bestellung {order} bei {store} nicht \
                 finden. Bitte korrigieren Sie sie, dann schicken wir Ihre Bestellung auf den Weg."
            }
            Locale::Fr => {
                "Le livreur n’a pas trouvé cette adresse pour votre commande {order} chez \
                 {store}. Veuillez la corriger, et nous remettrons votre commande en route."
            }
            Locale::Es => {
                "El repartidor no encontró esta dirección para su pedido {order} de {store}. \
                 Corríjala y enviaremos su pedido."
            }
        }
    }

    pub(crate) fn please_check(self) -> &'static str {
        match self.0 {
            Locale::En => "Please check",
            Locale::De => "Bitte prüfen",
            Locale::Fr => "À vérifier",
            Locale::Es => "Revise lo siguiente",
        }
    }

    pub(crate) fn street(self) -> &'static str {
        match self.0 {
            Locale::En => "Street",
            Locale::De => "Straße",
            Locale::Fr => "Rue",
            Locale::Es => "Calle",
        }
    }

    pub(crate) fn house_number(self) -> &'static str {
        match self.0 {
            Locale::En => "House number",
            Locale::De => "Hausnummer",
            Locale::Fr => "Numéro",
            Locale::Es => "Número",
        }
    }

    pub(crate) fn apartment(self) -> &'static str {
        match self.0 {
            Locale::En => "Flat, floor, building (if any)",
            Locale::De => "Wohnung, Etage, Gebäude (falls vorhanden)",
            Locale::Fr => "Appartement, étage, bâtiment (le cas échéant)",
            Locale::Es => "Piso, puerta, edificio (si procede)",
        }
    }

    pub(crate) fn postcode(self) -> &'static str {
        match self.0 {
            Locale::En => "Postcode",
            Locale::De => "Postleitzahl",
            Locale::Fr => "Code postal",
            Locale::Es => "Código postal",
        }
    }

    pub(crate) fn town(self) -> &'static str {
        match self.0 {
            Locale::En => "Town or city",
            Locale::De => "Ort",
            Locale::Fr => "Ville",
            Locale::Es => "Localidad",
        }
    }

    /// `{country}`: the order's, as its ISO code.
    pub(crate) fn country(self) -> &'static str {
        match self.0 {
            Locale::En => "Country: {country}",
            Locale::De => "Land: {country}",
            Locale::Fr => "Pays : {country}",
            Locale::Es => "País: {country}",
        }
    }

    pub(crate) fn send_corrected_address(self) -> &'static str {
        match self.0 {
            Locale::En => "Send the corrected address",
            Locale::De => "Korrigierte Adresse senden",
            Locale::Fr => "Envoyer l’adresse corrigée",
            Locale::Es => "Enviar la dirección corregida",
        }
    }

    pub(crate) fn your_address(self) -> &'static str {
        match self.0 {
            Locale::En => "Your delivery address",
            Locale::De => "Ihre Lieferadresse",
            Locale::Fr => "Votre adresse de livraison",
            Locale::Es => "Su dirección de entrega",
        }
    }

    /// `{order}`, `{store}`; the address follows.
    pub(crate) fn will_be_delivered_to(self) -> &'static str {
        match self.0 {
            Locale::En => "Your order {order} from {store} will be delivered to:",
            Locale::De => "Ihre Bestellung {order} bei {store} wird geliefert an:",
            Locale::Fr => "Votre commande {order} chez {store} sera livrée à :",
            Locale::Es => "Su pedido {order} de {store} se entregará en:",
        }
    }

    pub(crate) fn you_will_hear_from_us(self) -> &'static str {
        match self.0 {
            Locale::En => "You will hear from us when it is on the way.",
            Locale::De => "Wir melden uns, sobald sie unterwegs ist.",
            Locale::Fr => "Nous vous préviendrons dès qu’elle sera en route.",
            Locale::Es => "Le avisaremos cuando esté en camino.",
        }
    }

    /// `{order}`; the address follows.
    pub(crate) fn address_saved(self) -> &'static str {
        match self.0 {
            Locale::En => "We saved your address for order {order}:",
            Locale::De => "Wir haben Ihre Adresse für die Bestellung {order} gespeichert:",
            Locale::Fr => "Nous avons enregistré votre adresse pour la commande {order} :",
            Locale::Es => "Hemos guardado su dirección para el pedido {order}:",
        }
    }

    /// `{store}`.
    pub(crate) fn store_will_check(self) -> &'static str {
        match self.0 {
            Locale::En => "{store} will check the rest of the order and contact you.",
            Locale::De => "{store} prüft den Rest der Bestellung und meldet sich bei Ihnen.",
            Locale::Fr => "{store} vérifiera le reste de la commande et vous contactera.",
            Locale::Es => "{store} revisará el resto del pedido y se pondrá en contacto con usted.",
        }
    }

    pub(crate) fn nothing_to_change(self) -> &'static str {
        match self.0 {
            Locale::En => "Nothing to change",
            Locale::De => "Nichts zu ändern",
            Locale::Fr => "Rien à modifier",
            Locale::Es => "Nada que cambiar",
        }
    }

    /// `{order}`, `{store}`.
    pub(crate) fn address_needs_nothing(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "The address of your order {order} from {store} needs nothing from you now. \
                 If something is wrong, please contact the store."
            }
            Locale::De => {
                "Für die Adresse Ihrer Bestellung {order} bei {store} brauchen wir jetzt nichts \
                 von Ihnen. Wenn etwas nicht stimmt, wenden Sie sich bitte an den Shop."
            }
            Locale::Fr => {
                "L’adresse de votre commande {order} chez {store} ne demande rien de votre part \
                 pour l’instant. Si quelque chose ne va pas, veuillez contacter la boutique."
            }
            Locale::Es => {
                "La dirección de su pedido {order} de {store} no necesita nada de usted por \
                 ahora. Si algo no es correcto, póngase en contacto con la tienda."
            }
        }
    }

    pub(crate) fn enter_the_address(self) -> &'static str {
        match self.0 {
            Locale::En => "Please enter the address.",
            Locale::De => "Bitte geben Sie die Adresse ein.",
            Locale::Fr => "Veuillez saisir l’adresse.",
            Locale::Es => "Introduzca la dirección.",
        }
    }

    pub(crate) fn enter_the_street(self) -> &'static str {
        match self.0 {
            Locale::En => "Please enter the street.",
            Locale::De => "Bitte geben Sie die Straße ein.",
            Locale::Fr => "Veuillez saisir la rue.",
            Locale::Es => "Introduzca la calle.",
        }
    }

    pub(crate) fn enter_the_town(self) -> &'static str {
        match self.0 {
            Locale::En => "Please enter the town or city.",
            Locale::De => "Bitte geben Sie den Ort ein.",
            Locale::Fr => "Veuillez saisir la ville.",
            Locale::Es => "Introduzca la localidad.",
        }
    }

    pub(crate) fn enter_the_postcode(self) -> &'static str {
        match self.0 {
            Locale::En => "Please enter the postcode.",
            Locale::De => "Bitte geben Sie die Postleitzahl ein.",
            Locale::Fr => "Veuillez saisir le code postal.",
            Locale::Es => "Introduzca el código postal.",
        }
    }

    /// `{value}` (what the customer typed), `{country}`.
    pub(crate) fn not_a_postcode(self) -> &'static str {
        match self.0 {
            Locale::En => "\u{201c}{value}\u{201d} is not a postcode in {country}.",
            Locale::De => "\u{201e}{value}\u{201c} ist keine Postleitzahl in {country}.",
            Locale::Fr => "\u{ab}\u{a0}{value}\u{a0}\u{bb} n’est pas un code postal de {country}.",
            Locale::Es => "\u{ab}{value}\u{bb} no es un código postal de {country}.",
        }
    }

    /// `{field}` (the form's label), `{limit}` (characters).
    pub(crate) fn shorten(self) -> &'static str {
        match self.0 {
            Locale::En => "Please shorten \u{201c}{field}\u{201d} to at most {limit} characters.",
            Locale::De => "Bitte kürzen Sie \u{201e}{field}\u{201c} auf höchstens {limit} Zeichen.",
            Locale::Fr => {
                "Veuillez raccourcir \u{ab}\u{a0}{field}\u{a0}\u{bb} à {limit} caractères au plus."
            }
            Locale::Es => "Acorte \u{ab}{field}\u{bb} a {limit} caracteres como máximo.",
        }
    }

    pub(crate) fn something_else_for_the_store(self) -> &'static str {
        match self.0 {
            Locale::En => "Something else in the order needs the store's attention.",
            Locale::De => "Etwas anderes an der Bestellung muss der Shop klären.",
            Locale::Fr => "Un autre point de la commande doit être vu par la boutique.",
            Locale::Es => "Otro aspecto del pedido requiere la atención de la tienda.",
        }
    }

    pub(crate) fn same_address(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "This is the address the courier could not find. Please check the street, the \
                 house number and the postcode."
            }
            Locale::De => {
                "Das ist die Adresse, die der Kurier nicht finden konnte. Bitte prüfen Sie \
                 Straße, Hausnummer und Postleitzahl."
            }
            Locale::Fr => {
                "C’est l’adresse que le livreur n’a pas trouvée. Veuillez vérifier la rue, le \
                 numéro et le code postal."
            }
            Locale::Es => {
                "Esta es la dirección que el repartidor no encontró. Revise la calle, el número \
                 y el código postal."
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // The reschedule page.
    // -----------------------------------------------------------------------------------

    pub(crate) fn choose_a_time(self) -> &'static str {
        match self.0 {
            Locale::En => "Choose a delivery time",
            Locale::De => "Liefertermin wählen",
            Locale::Fr => "Choisir un créneau de livraison",
            Locale::Es => "Elegir una hora de entrega",
        }
    }

    /// `{slot}`: the window planned now.
    pub(crate) fn done_planned_for(self) -> &'static str {
        match self.0 {
            Locale::En => "Done: your delivery is now planned for {slot}.",
            Locale::De => "Erledigt: Ihre Lieferung ist jetzt für {slot} geplant.",
            Locale::Fr => "C’est fait : votre livraison est maintenant prévue le {slot}.",
            Locale::Es => "Hecho: su entrega está prevista ahora para el {slot}.",
        }
    }

    pub(crate) fn please_choose_again(self) -> &'static str {
        match self.0 {
            Locale::En => "Please choose again",
            Locale::De => "Bitte wählen Sie erneut",
            Locale::Fr => "Veuillez choisir à nouveau",
            Locale::Es => "Elija de nuevo",
        }
    }

    pub(crate) fn not_offered(self) -> &'static str {
        match self.0 {
            Locale::En => "That time is not offered (any more). Please choose one of these.",
            Locale::De => {
                "Diese Zeit wird nicht (mehr) angeboten. Bitte wählen Sie eine der folgenden."
            }
            Locale::Fr => {
                "Ce créneau n’est pas (ou plus) proposé. Veuillez en choisir un parmi ceux-ci."
            }
            Locale::Es => "Esa hora no se ofrece (o ya no). Elija una de estas.",
        }
    }

    /// `{order}`, `{store}`.
    pub(crate) fn could_not_deliver_choose(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "We could not deliver your order {order} from {store}. Choose when we should \
                 try again."
            }
            Locale::De => {
                "Wir konnten Ihre Bestellung {order} bei {store} nicht zustellen. Wählen Sie, \
                 wann wir es erneut versuchen sollen."
            }
            Locale::Fr => {
                "Nous n’avons pas pu livrer votre commande {order} chez {store}. Choisissez \
                 quand nous devons réessayer."
            }
            Locale::Es => {
                "No pudimos entregar su pedido {order} de {store}. Elija cuándo debemos \
                 intentarlo de nuevo."
            }
        }
    }

    /// `{order}`, `{store}`.
    pub(crate) fn can_come_another_time(self) -> &'static str {
        match self.0 {
            Locale::En => "Your order {order} from {store} can come at another time.",
            Locale::De => {
                "Ihre Bestellung {order} bei {store} kann auch zu einer anderen Zeit kommen."
            }
            Locale::Fr => "Votre commande {order} chez {store} peut être livrée à un autre moment.",
            Locale::Es => "Su pedido {order} de {store} puede llegar en otro momento.",
        }
    }

    /// Before the window planned now.
    pub(crate) fn planned_now(self) -> &'static str {
        match self.0 {
            Locale::En => "Planned now:",
            Locale::De => "Aktuell geplant:",
            Locale::Fr => "Prévu actuellement :",
            Locale::Es => "Previsto ahora:",
        }
    }

    pub(crate) fn delivery_times(self) -> &'static str {
        match self.0 {
            Locale::En => "Delivery times",
            Locale::De => "Lieferzeiten",
            Locale::Fr => "Créneaux de livraison",
            Locale::Es => "Horas de entrega",
        }
    }

    pub(crate) fn deliver_at_this_time(self) -> &'static str {
        match self.0 {
            Locale::En => "Deliver at this time",
            Locale::De => "Zu dieser Zeit liefern",
            Locale::Fr => "Livrer sur ce créneau",
            Locale::Es => "Entregar a esta hora",
        }
    }

    /// `{store}`, `{order}`.
    pub(crate) fn redelivery_requested(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "Thank you. {store} has your choice and arranges the new delivery of your order \
                 {order}; you will hear from us when it is on the way."
            }
            Locale::De => {
                "Vielen Dank. {store} hat Ihre Wahl erhalten und plant die neue Zustellung Ihrer \
                 Bestellung {order}; wir melden uns, sobald sie unterwegs ist."
            }
            Locale::Fr => {
                "Merci. {store} a bien reçu votre choix et organise la nouvelle livraison de \
                 votre commande {order} ; nous vous préviendrons dès qu’elle sera en route."
            }
            Locale::Es => {
                "Gracias. {store} ha recibido su elección y organiza la nueva entrega de su \
                 pedido {order}; le avisaremos cuando esté en camino."
            }
        }
    }

    /// `{order}`.
    pub(crate) fn with_the_driver(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "The driver already has your order {order}, so its time cannot change now. \
                 Follow it with the tracking link in your message."
            }
            Locale::De => {
                "Der Fahrer hat Ihre Bestellung {order} bereits, daher lässt sich die Zeit jetzt \
                 nicht mehr ändern. Verfolgen Sie sie über den Link in Ihrer Nachricht."
            }
            Locale::Fr => {
                "Le livreur a déjà votre commande {order} : son horaire ne peut plus changer. \
                 Suivez-la avec le lien de suivi de votre message."
            }
            Locale::Es => {
                "El repartidor ya tiene su pedido {order}, así que su hora ya no puede cambiar. \
                 Sígalo con el enlace de seguimiento de su mensaje."
            }
        }
    }

    /// `{order}`.
    pub(crate) fn already_delivered(self) -> &'static str {
        match self.0 {
            Locale::En => "Your order {order} has been delivered: there is nothing to reschedule.",
            Locale::De => {
                "Ihre Bestellung {order} wurde zugestellt: Es gibt nichts zu verschieben."
            }
            Locale::Fr => "Votre commande {order} a été livrée : il n’y a rien à reprogrammer.",
            Locale::Es => "Su pedido {order} ya se entregó: no hay nada que reprogramar.",
        }
    }

    /// `{order}`, `{store}`.
    pub(crate) fn ended(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "Your order {order} is no longer on its way to you, so there is nothing to \
                 reschedule. Please contact {store} if this is not what you expected."
            }
            Locale::De => {
                "Ihre Bestellung {order} ist nicht mehr auf dem Weg zu Ihnen, daher gibt es \
                 nichts zu verschieben. Bitte wenden Sie sich an {store}, falls Sie das nicht \
                 erwartet haben."
            }
            Locale::Fr => {
                "Votre commande {order} n’est plus en route vers vous : il n’y a rien à \
                 reprogrammer. Veuillez contacter {store} si ce n’est pas ce que vous attendiez."
            }
            Locale::Es => {
                "Su pedido {order} ya no está en camino, así que no hay nada que reprogramar. \
                 Póngase en contacto con {store} si no es lo que esperaba."
            }
        }
    }

    /// `{store}`.
    pub(crate) fn no_slots(self) -> &'static str {
        match self.0 {
            Locale::En => {
                "{store} has no delivery times to offer right now. Please contact the store."
            }
            Locale::De => {
                "{store} bietet gerade keine Lieferzeiten an. Bitte wenden Sie sich an den Shop."
            }
            Locale::Fr => {
                "{store} ne propose aucun créneau de livraison pour le moment. Veuillez \
                 contacter la boutique."
            }
            Locale::Es => {
                "{store} no ofrece horas de entrega en este momento. Póngase en contacto con \
                 la tienda."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_each_name_once_and_leaves_values_alone() {
        assert_eq!(
            fill(
                "Your order {order} from {store}",
                &[("order", "#1"), ("store", "{order} & co")]
            ),
            "Your order #1 from {order} & co"
        );
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
        assert_eq!(fill("{unknown} {", &[("a", "x")]), "{unknown} {");
        assert_eq!(fill("no values", &[]), "no values");
    }

    fn berlin(text: &str) -> jiff::ZonedDateTime {
        text.parse::<jiff::Timestamp>()
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
    }

    #[test]
    fn moments_are_written_as_each_language_writes_them() {
        let at = berlin("2026-12-07T14:30:00Z");
        let cases = [
            (Locale::En, "Mon 7 Dec, 15:30 CET"),
            (Locale::De, "Mo. 7. Dez., 15:30 CET"),
            (Locale::Fr, "lun. 7 déc., 15:30 CET"),
            (Locale::Es, "lun, 7 dic, 15:30 CET"),
        ];
        for (locale, words) in cases {
            assert_eq!(Words(locale).moment(&at), words, "{locale}");
        }
        // English as jiff writes it, on every day of a week and every month of a year.
        for days in 0..7 {
            let at = at.checked_add(jiff::Span::new().days(days)).unwrap();
            assert_eq!(
                Words(Locale::En).moment(&at),
                at.strftime("%a %-d %b, %H:%M %Z").to_string()
            );
        }
        for months in 0..12 {
            let at = at.checked_add(jiff::Span::new().months(months)).unwrap();
            assert_eq!(
                Words(Locale::En).moment(&at),
                at.strftime("%a %-d %b, %H:%M %Z").to_string()
            );
        }
        let march = berlin("2027-03-03T08:00:00Z");
        assert_eq!(Words(Locale::De).moment(&march), "Mi. 3. März, 09:00 CET");
        assert_eq!(Words(Locale::Fr).moment(&march), "mer. 3 mars, 09:00 CET");
        assert_eq!(Words(Locale::Es).moment(&march), "mié, 3 mar, 09:00 CET");
    }

    #[test]
    fn slots_are_written_as_each_language_writes_them() {
        let (start, end) = (
            berlin("2026-12-08T08:00:00Z"),
            berlin("2026-12-08T11:00:00Z"),
        );
        let cases = [
            (Locale::En, "Tue 8 Dec, 09:00–12:00 CET"),
            (Locale::De, "Di. 8. Dez., 09:00–12:00 CET"),
            (Locale::Fr, "mar. 8 déc., 09:00–12:00 CET"),
            (Locale::Es, "mar, 8 dic, 09:00–12:00 CET"),
        ];
        for (locale, words) in cases {
            assert_eq!(Words(locale).slot(&start, &end), words, "{locale}");
        }
    }

    #[test]
    fn every_failure_reason_the_domain_knows_is_translated() {
        let codes = [
            "RECIPIENT_ABSENT",
            "REFUSED",
            "ADDRESS_NOT_FOUND",
            "NO_ACCESS",
            "DAMAGED",
            "COD_NOT_PAID",
            "ID_REQUIRED",
            "WEATHER",
        ];
        for locale in [Locale::De, Locale::Fr, Locale::Es] {
            let general = Words(locale).failure_reason(None);
            let mut seen = std::collections::HashSet::new();
            for code in codes {
                let words = Words(locale).failure_reason(Some(code));
                assert_ne!(words, general, "{locale} {code}");
                assert!(seen.insert(words), "{locale} {code}: {words} twice");
            }
            assert_eq!(Words(locale).failure_reason(Some("OTHER")), general);
        }
        assert_eq!(
            Words(Locale::En).failure_reason(Some("RECIPIENT_ABSENT")),
            "nobody was available to receive it"
        );
    }

    #[test]
    fn photos_are_counted_in_each_language() {
        assert_eq!(Words(Locale::En).photos_taken(1), "1 taken at the door");
        assert_eq!(Words(Locale::Fr).photos_taken(1), "1 prise à la porte");
        assert_eq!(Words(Locale::Fr).photos_taken(2), "2 prises à la porte");
        assert_eq!(Words(Locale::Es).photos_taken(3), "3 tomadas en la puerta");
        assert_eq!(
            Words(Locale::De).photos_taken(2),
            "2 an der Tür aufgenommen"
        );
    }
}
