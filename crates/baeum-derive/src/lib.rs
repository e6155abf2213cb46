//! `#[derive(Module)]`: writes `baeum::nn::Module::visit` for a struct, so a model lists its
//! parameters, buffers and child modules (with PyTorch's dotted names) without hand-written
//! traversal.
//!
//! Field rules, chosen so that forgetting an annotation is a compile error rather than a silently
//! missing parameter:
//! - `Tensor` / `Option<Tensor>` fields are parameters, named after the field;
//! - `#[buffer]` marks a tensor field as a buffer (saved in the state dict, not trained);
//! - fields of primitive types (`usize`, `f64`, `bool`, `String`, …) are ignored;
//! - every other field is a child module (it must implement `Module`; `Vec<M>` and `Option<M>`
//!   of modules work too, a `Vec` naming its items `field.0`, `field.1`, …);
//! - `#[skip]` ignores a field (configuration, caches);
//! - `#[module(name = "0")]` / `#[param(name = "...")]` rename an entry (e.g. to match a PyTorch
//!   checkpoint's keys).

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Type, parse_macro_input};

#[proc_macro_derive(Module, attributes(buffer, skip, module, param))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

enum Kind {
    Param,
    Buffer,
    Child,
    Skip,
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            input,
            "#[derive(Module)] works on structs only",
        ));
    };
    let mut calls = Vec::new();
    let fields: Vec<_> = match &data.fields {
        Fields::Named(f) => f.named.iter().collect(),
        Fields::Unnamed(f) => f.unnamed.iter().collect(),
        Fields::Unit => Vec::new(),
    };
    for (i, field) in fields.iter().enumerate() {
        let access = match &field.ident {
            Some(id) => quote!(self.#id),
            None => {
                let idx = syn::Index::from(i);
                quote!(self.#idx)
            }
        };
        let mut entry_name = match &field.ident {
            Some(id) => id.to_string().trim_start_matches("r#").to_string(),
            None => i.to_string(),
        };
        let mut kind = None;
        for attr in &field.attrs {
            let path = attr.path();
            let k = if path.is_ident("buffer") {
                Kind::Buffer
            } else if path.is_ident("skip") {
                Kind::Skip
            } else if path.is_ident("module") {
                Kind::Child
            } else if path.is_ident("param") {
                Kind::Param
            } else {
                continue;
            };
            if matches!(attr.meta, syn::Meta::List(_)) {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("name") {
                        let s: syn::LitStr = meta.value()?.parse()?;
                        entry_name = s.value();
                        Ok(())
                    } else {
                        Err(meta.error("expected `name = \"...\"`"))
                    }
                })?;
            }
            kind = Some(k);
        }
        let kind = match kind {
            Some(k) => k,
            None if is_tensor_like(&field.ty) => Kind::Param,
            None if is_primitive(&field.ty) => Kind::Skip,
            None => Kind::Child,
        };
        let call = match kind {
            Kind::Param => {
                quote!(::baeum::nn::ParamField::visit_param(&#access, #entry_name, visitor);)
            }
            Kind::Buffer => {
                quote!(::baeum::nn::ParamField::visit_buffer(&#access, #entry_name, visitor);)
            }
            Kind::Child => {
                quote!(::baeum::nn::ChildField::visit_child(&#access, #entry_name, visitor);)
            }
            Kind::Skip => continue,
        };
        calls.push(call);
    }
    let type_name = name.to_string();
    Ok(quote! {
        impl #impl_generics ::baeum::nn::Module for #name #ty_generics #where_clause {
            fn visit(&self, visitor: &mut dyn ::baeum::nn::Visitor) {
                #(#calls)*
            }
            fn type_name(&self) -> &'static str {
                #type_name
            }
        }
    })
}

/// The last path segment of a type, and its first generic argument if any.
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let arg = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((seg.ident.to_string(), arg))
}

fn is_tensor_like(ty: &Type) -> bool {
    match last_segment(ty) {
        Some((n, _)) if n == "Tensor" => true,
        Some((n, Some(inner))) if n == "Option" => {
            matches!(last_segment(inner), Some((m, _)) if m == "Tensor")
        }
        _ => false,
    }
}

fn is_primitive(ty: &Type) -> bool {
    const PRIMITIVES: &[&str] = &[
        "bool",
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "i8",
        "i16",
        "i32",
        "i64",
        "isize",
        "f32",
        "f64",
        "String",
        "char",
        "PhantomData",
        "DType",
        "Padding",
    ];
    match ty {
        Type::Array(a) => is_primitive(&a.elem),
        Type::Tuple(t) => t.elems.iter().all(is_primitive),
        Type::Reference(_) => true,
        _ => match last_segment(ty) {
            Some((n, _)) if PRIMITIVES.contains(&n.as_str()) => true,
            Some((n, Some(inner))) if n == "Option" || n == "Vec" => is_primitive(inner),
            _ => false,
        },
    }
}
