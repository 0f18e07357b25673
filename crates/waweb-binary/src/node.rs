//! The owned node form, for building messages and keeping nodes beyond their input buffer.

use crate::tree::{ContentRef, NodeRef};

/// An owned node: description, attributes in wire order, optional content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Node {
    /// The description (tag name), e.g. `action`.
    pub tag: String,
    /// Attributes in the order they are written.
    pub attrs: Vec<(String, String)>,
    /// The content, if any.
    pub content: Option<Content>,
}

/// The content of an owned node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Content {
    /// Child nodes.
    List(Vec<Node>),
    /// A string; written as a token, JID pair or packed string where it is one, otherwise as a
    /// byte run (which decodes back as [`Content::Bytes`]).
    Text(String),
    /// A byte run (BINARY_8/20/32), e.g. a protobuf message.
    Bytes(Vec<u8>),
}

impl Node {
    /// A node with a description and nothing else.
    pub fn new(tag: impl Into<String>) -> Self {
        Node {
            tag: tag.into(),
            attrs: Vec::new(),
            content: None,
        }
    }

    /// Adds an attribute (builder style).
    #[must_use]
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Sets child nodes as the content (builder style).
    #[must_use]
    pub fn children(mut self, children: Vec<Node>) -> Self {
        self.content = Some(Content::List(children));
        self
    }

    /// Sets a byte run as the content (builder style).
    #[must_use]
    pub fn bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.content = Some(Content::Bytes(bytes.into()));
        self
    }

    /// Sets text as the content (builder style).
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.content = Some(Content::Text(text.into()));
        self
    }

    /// The value of the first attribute named `key`.
    #[must_use]
    pub fn get_attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The child nodes (empty when the content is not a list).
    #[must_use]
    pub fn child_nodes(&self) -> &[Node] {
        match &self.content {
            Some(Content::List(c)) => c,
            _ => &[],
        }
    }
}

impl From<NodeRef<'_, '_>> for Node {
    fn from(n: NodeRef<'_, '_>) -> Self {
        Node {
            tag: n.tag().to_cow().into_owned(),
            attrs: n
                .attrs()
                .map(|(k, v)| (k.to_cow().into_owned(), v.to_cow().into_owned()))
                .collect(),
            content: match n.content() {
                ContentRef::None => None,
                ContentRef::List(c) => Some(Content::List(c.map(Node::from).collect())),
                ContentRef::Bytes(b) => Some(Content::Bytes(b.to_vec())),
                ContentRef::Text(v) => Some(Content::Text(v.to_cow().into_owned())),
            },
        }
    }
}

impl PartialEq<Node> for NodeRef<'_, '_> {
    /// Compares a borrowed node with an owned one without converting either.
    fn eq(&self, other: &Node) -> bool {
        if !self.tag().eq_str(&other.tag) || self.attr_count() != other.attrs.len() {
            return false;
        }
        if !self
            .attrs()
            .zip(&other.attrs)
            .all(|((k, v), (ok, ov))| k.eq_str(ok) && v.eq_str(ov))
        {
            return false;
        }
        match (self.content(), &other.content) {
            (ContentRef::None, None) => true,
            (ContentRef::List(a), Some(Content::List(b))) => {
                a.len() == b.len() && a.zip(b).all(|(x, y)| x == *y)
            }
            (ContentRef::Bytes(a), Some(Content::Bytes(b))) => a == b.as_slice(),
            (ContentRef::Text(a), Some(Content::Text(b))) => a.eq_str(b),
            _ => false,
        }
    }
}
