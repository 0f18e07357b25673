//! Hand-written helpers on the generated types: what a message is, its text, its media, and
//! building the messages a client sends (text, text with mentions, quoted replies).

use crate::proto::{
    ContextInfo, ExtendedTextMessage, Message, MessageKey, WebMessageInfo,
    hydrated_four_row_template, template_message, web_message_info,
};

/// The kind of content a [`Message`] carries, named after its field in the schema.
///
/// A message carries one kind in practice. [`Message::kind`] picks the first set field in schema
/// order, except that the auxiliary `senderKeyDistributionMessage` and `messageContextInfo`, which
/// ride along with another kind, only count when nothing else is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// `conversation`: plain text.
    Conversation,
    /// `imageMessage`.
    Image,
    /// `contactMessage`: one vCard.
    Contact,
    /// `locationMessage`.
    Location,
    /// `extendedTextMessage`: text with a quote, mentions or link preview.
    ExtendedText,
    /// `documentMessage`.
    Document,
    /// `audioMessage` (also voice notes).
    Audio,
    /// `videoMessage` (also GIFs).
    Video,
    /// `call`.
    Call,
    /// `chat`.
    Chat,
    /// `protocolMessage`: revoke, ephemeral setting, sync.
    Protocol,
    /// `contactsArrayMessage`.
    ContactsArray,
    /// `highlyStructuredMessage`.
    HighlyStructured,
    /// `sendPaymentMessage`.
    SendPayment,
    /// `liveLocationMessage`.
    LiveLocation,
    /// `requestPaymentMessage`.
    RequestPayment,
    /// `declinePaymentRequestMessage`.
    DeclinePaymentRequest,
    /// `cancelPaymentRequestMessage`.
    CancelPaymentRequest,
    /// `templateMessage`.
    Template,
    /// `stickerMessage`.
    Sticker,
    /// `groupInviteMessage`.
    GroupInvite,
    /// `templateButtonReplyMessage`.
    TemplateButtonReply,
    /// `productMessage`.
    Product,
    /// `deviceSentMessage`: wraps another message.
    DeviceSent,
    /// `listMessage`.
    List,
    /// `viewOnceMessage`: wraps another message.
    ViewOnce,
    /// `orderMessage`.
    Order,
    /// `listResponseMessage`.
    ListResponse,
    /// `ephemeralMessage`: wraps another message.
    Ephemeral,
    /// `invoiceMessage`.
    Invoice,
    /// `buttonsMessage`.
    Buttons,
    /// `buttonsResponseMessage`.
    ButtonsResponse,
    /// `paymentInviteMessage`.
    PaymentInvite,
    /// Only `senderKeyDistributionMessage` (or its fast-ratchet twin) is set.
    SenderKeyDistribution,
    /// Nothing the schema knows is set (an empty message or only unknown fields).
    Empty,
}

/// The five downloadable media kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `imageMessage`.
    Image,
    /// `videoMessage`.
    Video,
    /// `audioMessage`.
    Audio,
    /// `documentMessage`.
    Document,
    /// `stickerMessage` (encrypted and uploaded like an image).
    Sticker,
}

impl MediaKind {
    /// The HKDF info string that expands a `mediaKey` into IV, cipher key and MAC key.
    #[must_use]
    pub const fn hkdf_info(self) -> &'static str {
        match self {
            Self::Image | Self::Sticker => "WhatsApp Image Keys",
            Self::Video => "WhatsApp Video Keys",
            Self::Audio => "WhatsApp Audio Keys",
            Self::Document => "WhatsApp Document Keys",
        }
    }

    /// The path segment of the upload URL (`/mms/<segment>/...`).
    #[must_use]
    pub const fn upload_path(self) -> &'static str {
        match self {
            Self::Image | Self::Sticker => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }
}

/// What a client needs to download and show one media attachment, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaInfo<'a> {
    /// Which kind of media.
    pub kind: MediaKind,
    /// Full download URL of the encrypted file.
    pub url: Option<&'a str>,
    /// Path on a media host, for when `url` has expired.
    pub direct_path: Option<&'a str>,
    /// MIME type of the plaintext file.
    pub mimetype: Option<&'a str>,
    /// 32-byte key to expand with [`MediaKind::hkdf_info`].
    pub media_key: Option<&'a [u8]>,
    /// SHA-256 of the plaintext file.
    pub file_sha256: Option<&'a [u8]>,
    /// SHA-256 of the encrypted file (ciphertext followed by the 10-byte MAC).
    pub file_enc_sha256: Option<&'a [u8]>,
    /// Plaintext length in bytes.
    pub file_length: Option<u64>,
    /// Caption (image, video) or title (document).
    pub caption: Option<&'a str>,
    /// Inline preview (JPEG; PNG for stickers).
    pub thumbnail: Option<&'a [u8]>,
}

impl Message {
    /// A plain text message (`conversation`).
    #[must_use]
    pub fn from_text(text: impl Into<String>) -> Self {
        Self {
            conversation: Some(text.into()),
            ..Self::default()
        }
    }

    /// A text message mentioning `jids` (`extendedTextMessage` with `contextInfo.mentionedJid`);
    /// the text should contain `@<number>` for each.
    #[must_use]
    pub fn text_with_mentions(
        text: impl Into<String>,
        jids: impl IntoIterator<Item = String>,
    ) -> Self {
        let context = ContextInfo {
            mentioned_jid: jids.into_iter().collect(),
            ..ContextInfo::default()
        };
        Self::extended_text(text.into(), context)
    }

    /// A text reply quoting `quoted` (`extendedTextMessage` whose `contextInfo` names the quoted
    /// message's id and author and carries a copy of its content).
    ///
    /// `own_jid` is the user's JID: it is the author when the quoted message is our own.
    #[must_use]
    pub fn quoted_reply(text: impl Into<String>, quoted: &WebMessageInfo, own_jid: &str) -> Self {
        Self::extended_text(text.into(), ContextInfo::quoting(quoted, own_jid))
    }

    fn extended_text(text: String, context: ContextInfo) -> Self {
        let extended = ExtendedTextMessage {
            text: Some(text),
            context_info: Some(Box::new(context)),
            ..ExtendedTextMessage::default()
        };
        Self {
            extended_text_message: Some(Box::new(extended)),
            ..Self::default()
        }
    }

    /// The kind of content this message carries.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        use MessageKind as K;
        let kinds = [
            (self.conversation.is_some(), K::Conversation),
            (self.image_message.is_some(), K::Image),
            (self.contact_message.is_some(), K::Contact),
            (self.location_message.is_some(), K::Location),
            (self.extended_text_message.is_some(), K::ExtendedText),
            (self.document_message.is_some(), K::Document),
            (self.audio_message.is_some(), K::Audio),
            (self.video_message.is_some(), K::Video),
            (self.call.is_some(), K::Call),
            (self.chat.is_some(), K::Chat),
            (self.protocol_message.is_some(), K::Protocol),
            (self.contacts_array_message.is_some(), K::ContactsArray),
            (
                self.highly_structured_message.is_some(),
                K::HighlyStructured,
            ),
            (self.send_payment_message.is_some(), K::SendPayment),
            (self.live_location_message.is_some(), K::LiveLocation),
            (self.request_payment_message.is_some(), K::RequestPayment),
            (
                self.decline_payment_request_message.is_some(),
                K::DeclinePaymentRequest,
            ),
            (
                self.cancel_payment_request_message.is_some(),
                K::CancelPaymentRequest,
            ),
            (self.template_message.is_some(), K::Template),
            (self.sticker_message.is_some(), K::Sticker),
            (self.group_invite_message.is_some(), K::GroupInvite),
            (
                self.template_button_reply_message.is_some(),
                K::TemplateButtonReply,
            ),
            (self.product_message.is_some(), K::Product),
            (self.device_sent_message.is_some(), K::DeviceSent),
            (self.list_message.is_some(), K::List),
            (self.view_once_message.is_some(), K::ViewOnce),
            (self.order_message.is_some(), K::Order),
            (self.list_response_message.is_some(), K::ListResponse),
            (self.ephemeral_message.is_some(), K::Ephemeral),
            (self.invoice_message.is_some(), K::Invoice),
            (self.buttons_message.is_some(), K::Buttons),
            (self.buttons_response_message.is_some(), K::ButtonsResponse),
            (self.payment_invite_message.is_some(), K::PaymentInvite),
            (
                self.sender_key_distribution_message.is_some()
                    || self
                        .fast_ratchet_key_sender_key_distribution_message
                        .is_some(),
                K::SenderKeyDistribution,
            ),
        ];
        kinds
            .into_iter()
            .find_map(|(set, kind)| set.then_some(kind))
            .unwrap_or(K::Empty)
    }

    /// The message a wrapper kind (view once, ephemeral, device sent) carries.
    #[must_use]
    pub fn inner(&self) -> Option<&Message> {
        match self.kind() {
            MessageKind::ViewOnce => self.view_once_message.as_deref()?.message.as_deref(),
            MessageKind::Ephemeral => self.ephemeral_message.as_deref()?.message.as_deref(),
            MessageKind::DeviceSent => self.device_sent_message.as_deref()?.message.as_deref(),
            _ => None,
        }
    }

    /// The text a user would read, whatever the kind: the text itself, a caption, a contact's or
    /// place's name, a button label, ... Wrappers (view once, ephemeral, device sent) and payment
    /// notes are looked through. `None` for kinds without text (calls, revokes, ...).
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        if let Some(inner) = self.inner() {
            return inner.text();
        }
        match self.kind() {
            MessageKind::Conversation => self.conversation.as_deref(),
            MessageKind::ExtendedText => self.extended_text_message.as_deref()?.text.as_deref(),
            MessageKind::Image => self.image_message.as_deref()?.caption.as_deref(),
            MessageKind::Video => self.video_message.as_deref()?.caption.as_deref(),
            MessageKind::Document => {
                let document = self.document_message.as_deref()?;
                document.title.as_deref().or(document.file_name.as_deref())
            }
            MessageKind::Contact => self.contact_message.as_deref()?.display_name.as_deref(),
            MessageKind::ContactsArray => self
                .contacts_array_message
                .as_deref()?
                .display_name
                .as_deref(),
            MessageKind::Location => {
                let location = self.location_message.as_deref()?;
                location.name.as_deref().or(location.address.as_deref())
            }
            MessageKind::LiveLocation => self.live_location_message.as_deref()?.caption.as_deref(),
            MessageKind::GroupInvite => self.group_invite_message.as_deref()?.caption.as_deref(),
            MessageKind::Buttons => self.buttons_message.as_deref()?.content_text.as_deref(),
            MessageKind::ButtonsResponse => {
                let response = self.buttons_response_message.as_deref()?;
                match &response.response {
                    Some(
                        crate::proto::buttons_response_message::Response::SelectedDisplayText(text),
                    ) => Some(text.as_str()),
                    None => None,
                }
            }
            MessageKind::TemplateButtonReply => self
                .template_button_reply_message
                .as_deref()?
                .selected_display_text
                .as_deref(),
            MessageKind::Template => {
                let template = self.template_message.as_deref()?;
                let hydrated = match &template.format {
                    Some(template_message::Format::HydratedFourRowTemplate(t)) => Some(t),
                    _ => template.hydrated_template.as_ref(),
                }?;
                hydrated
                    .hydrated_content_text
                    .as_deref()
                    .or(match &hydrated.title {
                        Some(hydrated_four_row_template::Title::HydratedTitleText(t)) => {
                            Some(t.as_str())
                        }
                        _ => None,
                    })
            }
            MessageKind::List => {
                let list = self.list_message.as_deref()?;
                list.description.as_deref().or(list.title.as_deref())
            }
            MessageKind::ListResponse => self.list_response_message.as_deref()?.title.as_deref(),
            MessageKind::Product => self
                .product_message
                .as_deref()?
                .product
                .as_ref()?
                .title
                .as_deref(),
            MessageKind::Order => self.order_message.as_deref()?.message.as_deref(),
            MessageKind::SendPayment => self
                .send_payment_message
                .as_deref()?
                .note_message
                .as_deref()?
                .text(),
            MessageKind::RequestPayment => self
                .request_payment_message
                .as_deref()?
                .note_message
                .as_deref()?
                .text(),
            _ => None,
        }
    }

    /// The downloadable attachment, if the message (or the message it wraps) is media.
    #[must_use]
    pub fn media(&self) -> Option<MediaInfo<'_>> {
        if let Some(inner) = self.inner() {
            return inner.media();
        }
        let info = match self.kind() {
            MessageKind::Image => {
                let m = self.image_message.as_deref()?;
                MediaInfo {
                    kind: MediaKind::Image,
                    url: m.url.as_deref(),
                    direct_path: m.direct_path.as_deref(),
                    mimetype: m.mimetype.as_deref(),
                    media_key: m.media_key.as_deref(),
                    file_sha256: m.file_sha256.as_deref(),
                    file_enc_sha256: m.file_enc_sha256.as_deref(),
                    file_length: m.file_length,
                    caption: m.caption.as_deref(),
                    thumbnail: m.jpeg_thumbnail.as_deref(),
                }
            }
            MessageKind::Video => {
                let m = self.video_message.as_deref()?;
                MediaInfo {
                    kind: MediaKind::Video,
                    url: m.url.as_deref(),
                    direct_path: m.direct_path.as_deref(),
                    mimetype: m.mimetype.as_deref(),
                    media_key: m.media_key.as_deref(),
                    file_sha256: m.file_sha256.as_deref(),
                    file_enc_sha256: m.file_enc_sha256.as_deref(),
                    file_length: m.file_length,
                    caption: m.caption.as_deref(),
                    thumbnail: m.jpeg_thumbnail.as_deref(),
                }
            }
            MessageKind::Audio => {
                let m = self.audio_message.as_deref()?;
                MediaInfo {
                    kind: MediaKind::Audio,
                    url: m.url.as_deref(),
                    direct_path: m.direct_path.as_deref(),
                    mimetype: m.mimetype.as_deref(),
                    media_key: m.media_key.as_deref(),
                    file_sha256: m.file_sha256.as_deref(),
                    file_enc_sha256: m.file_enc_sha256.as_deref(),
                    file_length: m.file_length,
                    caption: None,
                    thumbnail: None,
                }
            }
            MessageKind::Document => {
                let m = self.document_message.as_deref()?;
                MediaInfo {
                    kind: MediaKind::Document,
                    url: m.url.as_deref(),
                    direct_path: m.direct_path.as_deref(),
                    mimetype: m.mimetype.as_deref(),
                    media_key: m.media_key.as_deref(),
                    file_sha256: m.file_sha256.as_deref(),
                    file_enc_sha256: m.file_enc_sha256.as_deref(),
                    file_length: m.file_length,
                    caption: m.title.as_deref().or(m.file_name.as_deref()),
                    thumbnail: m.jpeg_thumbnail.as_deref(),
                }
            }
            MessageKind::Sticker => {
                let m = self.sticker_message.as_deref()?;
                MediaInfo {
                    kind: MediaKind::Sticker,
                    url: m.url.as_deref(),
                    direct_path: m.direct_path.as_deref(),
                    mimetype: m.mimetype.as_deref(),
                    media_key: m.media_key.as_deref(),
                    file_sha256: m.file_sha256.as_deref(),
                    file_enc_sha256: m.file_enc_sha256.as_deref(),
                    file_length: m.file_length,
                    caption: None,
                    thumbnail: m.png_thumbnail.as_deref(),
                }
            }
            _ => return None,
        };
        Some(info)
    }

    /// The `contextInfo` (quote, mentions, forwarding) of the kind this message carries.
    #[must_use]
    pub fn context_info(&self) -> Option<&ContextInfo> {
        if let Some(inner) = self.inner() {
            return inner.context_info();
        }
        match self.kind() {
            MessageKind::ExtendedText => self
                .extended_text_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::Image => self.image_message.as_deref()?.context_info.as_deref(),
            MessageKind::Video => self.video_message.as_deref()?.context_info.as_deref(),
            MessageKind::Audio => self.audio_message.as_deref()?.context_info.as_deref(),
            MessageKind::Document => self.document_message.as_deref()?.context_info.as_deref(),
            MessageKind::Sticker => self.sticker_message.as_deref()?.context_info.as_deref(),
            MessageKind::Contact => self.contact_message.as_deref()?.context_info.as_deref(),
            MessageKind::ContactsArray => self
                .contacts_array_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::Location => self.location_message.as_deref()?.context_info.as_deref(),
            MessageKind::LiveLocation => self
                .live_location_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::GroupInvite => self
                .group_invite_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::Buttons => self.buttons_message.as_deref()?.context_info.as_deref(),
            MessageKind::ButtonsResponse => self
                .buttons_response_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::TemplateButtonReply => self
                .template_button_reply_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::Template => self.template_message.as_deref()?.context_info.as_deref(),
            MessageKind::List => self.list_message.as_deref()?.context_info.as_deref(),
            MessageKind::ListResponse => self
                .list_response_message
                .as_deref()?
                .context_info
                .as_deref(),
            MessageKind::Product => self.product_message.as_deref()?.context_info.as_deref(),
            MessageKind::Order => self.order_message.as_deref()?.context_info.as_deref(),
            _ => None,
        }
    }
}

impl ContextInfo {
    /// The context of a reply to `quoted`: its id, its author and a copy of its content.
    ///
    /// The author is `own_jid` for our own messages, else the group participant, else the chat.
    #[must_use]
    pub fn quoting(quoted: &WebMessageInfo, own_jid: &str) -> Self {
        let key = &quoted.key;
        let author = if key.from_me == Some(true) {
            Some(own_jid.to_owned())
        } else {
            key.participant
                .clone()
                .or_else(|| quoted.participant.clone())
                .or_else(|| key.remote_jid.clone())
        };
        Self {
            stanza_id: key.id.clone(),
            participant: author,
            quoted_message: quoted.message.clone().map(Box::new),
            ..Self::default()
        }
    }
}

impl WebMessageInfo {
    /// A message we send: `key {remoteJid, fromMe: true, id}`, the timestamp in seconds and
    /// status PENDING, as peers relay it inside `action type=relay`.
    #[must_use]
    pub fn outgoing(
        remote_jid: impl Into<String>,
        id: impl Into<String>,
        timestamp: u64,
        message: Message,
    ) -> Self {
        Self {
            key: MessageKey {
                remote_jid: Some(remote_jid.into()),
                from_me: Some(true),
                id: Some(id.into()),
                participant: None,
            },
            message: Some(message),
            message_timestamp: Some(timestamp),
            status: Some(web_message_info::Status::Pending as i32),
            ..Self::default()
        }
    }

    /// The text of the content ([`Message::text`]); `None` for stubs and kinds without text.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        self.message.as_ref()?.text()
    }

    /// The kind of the content; [`MessageKind::Empty`] for stubs.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        self.message
            .as_ref()
            .map_or(MessageKind::Empty, Message::kind)
    }

    /// The media attachment of the content ([`Message::media`]).
    #[must_use]
    pub fn media(&self) -> Option<MediaInfo<'_>> {
        self.message.as_ref()?.media()
    }
}
