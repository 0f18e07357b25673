//! The JSON form of nodes: `[description, {attributes}, content]`, as the seed project showed
//! them. Content is `null`, a string, an array of nodes, or — for byte runs — an object
//! `{"hex": "<lower-case hex>"}`, so that bytes can never be mistaken for text.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::node::{Content, Node};
use crate::tree::{ContentRef, NodeRef};

struct AttrsRef<'n, 't, 'a>(&'n NodeRef<'t, 'a>);

impl Serialize for AttrsRef<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.attr_count()))?;
        for (k, v) in self.0.attrs() {
            m.serialize_entry(&k.to_cow(), &v.to_cow())?;
        }
        m.end()
    }
}

struct HexBytes<'b>(&'b [u8]);

impl Serialize for HexBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("hex", &hex::encode(self.0))?;
        m.end()
    }
}

struct ChildrenRef<'t, 'a>(crate::tree::Children<'t, 'a>);

impl Serialize for ChildrenRef<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            seq.serialize_element(&c)?;
        }
        seq.end()
    }
}

impl Serialize for NodeRef<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(3))?;
        seq.serialize_element(&self.tag().to_cow())?;
        seq.serialize_element(&AttrsRef(self))?;
        match self.content() {
            ContentRef::None => seq.serialize_element(&())?,
            ContentRef::List(c) => seq.serialize_element(&ChildrenRef(c))?,
            ContentRef::Bytes(b) => seq.serialize_element(&HexBytes(b))?,
            ContentRef::Text(v) => seq.serialize_element(&v.to_cow())?,
        }
        seq.end()
    }
}

struct Attrs<'n>(&'n [(String, String)]);

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(3))?;
        seq.serialize_element(&self.tag)?;
        seq.serialize_element(&Attrs(&self.attrs))?;
        match &self.content {
            None => seq.serialize_element(&())?,
            Some(Content::List(c)) => seq.serialize_element(c)?,
            Some(Content::Bytes(b)) => seq.serialize_element(&HexBytes(b))?,
            Some(Content::Text(t)) => seq.serialize_element(t)?,
        }
        seq.end()
    }
}

/// Attributes read from a JSON object, keeping their order.
struct AttrList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for AttrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AttrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string attributes, or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<AttrList, E> {
                Ok(AttrList(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<AttrList, E> {
                Ok(AttrList(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AttrList, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AttrList, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, String>()? {
                    v.push((k, val));
                }
                Ok(AttrList(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Content read from JSON: null, a string, an array of nodes, or `{"hex": "..."}`.
struct ContentRepr(Option<Content>);

impl<'de> Deserialize<'de> for ContentRepr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContentRepr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, a string, an array of nodes or {\"hex\": ...}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ContentRepr, E> {
                Ok(ContentRepr(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<ContentRepr, E> {
                Ok(ContentRepr(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ContentRepr, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ContentRepr, E> {
                Ok(ContentRepr(Some(Content::Text(s.to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ContentRepr, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(n) = seq.next_element::<Node>()? {
                    v.push(n);
                }
                Ok(ContentRepr(Some(Content::List(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ContentRepr, A::Error> {
                let mut bytes = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k != "hex" || bytes.is_some() {
                        return Err(de::Error::custom(format!(
                            "unexpected key {k:?} in byte content"
                        )));
                    }
                    let h: String = m.next_value()?;
                    bytes = Some(
                        hex::decode(&h).map_err(|e| de::Error::custom(format!("bad hex: {e}")))?,
                    );
                }
                match bytes {
                    Some(b) => Ok(ContentRepr(Some(Content::Bytes(b)))),
                    None => Err(de::Error::missing_field("hex")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node [description, attributes, content]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let tag: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let attrs: AttrList = seq.next_element()?.unwrap_or(AttrList(Vec::new()));
                let content: ContentRepr = seq.next_element()?.unwrap_or(ContentRepr(None));
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(Node {
                    tag,
                    attrs: attrs.0,
                    content: content.0,
                })
            }
        }
        d.deserialize_seq(V)
    }
}
