//! `#[derive(Config)]`: an experiment's configuration declared once per field. Each field's doc
//! comment becomes its comment in `fdl config NAME`, and its `#[config(rule = EXPR)]` attributes
//! (any number; `EXPR` implements `fdl_lab::rules::Rule` for the field's type) its range checks,
//! whose errors name the key, the value and what is allowed. `#[config(nested)]` marks a field
//! that is itself a config (a TOML table; its keys are `field.key`). A struct-level
//! `#[config(check = path)]` adds a check across fields (`fn(&Self) -> Result<(), ConfigError>`).
//! The derive implements `fdl_lab::Validate`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{ToTokens, quote};
use syn::{Attribute, Data, DeriveInput, Expr, Fields, LitStr, Path, parse_macro_input};

/// Derives `fdl_lab::Validate` from the field attributes; see the crate docs.
#[proc_macro_derive(Config, attributes(config))]
pub fn derive_config(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The `#[config(...)]` settings of one field.
#[derive(Default)]
struct FieldSettings {
    rules: Vec<Expr>,
    nested: bool,
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "Config derives only for structs",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(name, "Config needs named fields"));
    };
    let mut checks = Vec::new();
    let mut docs = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("named field");
        let key = ident.to_string();
        let ty = &field.ty;
        let doc = doc_text(&field.attrs);
        let settings = field_settings(&field.attrs)?;
        if settings.nested && !settings.rules.is_empty() {
            return Err(syn::Error::new_spanned(
                field,
                "a nested table has no rules of its own: put them on its fields",
            ));
        }
        if let Some(rename) = field.attrs.iter().find(|a| {
            a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("rename")
        }) {
            return Err(syn::Error::new_spanned(
                rename,
                "Config names keys by their field names: a serde rename would make errors and `fdl config` name the wrong key",
            ));
        }
        let rules = &settings.rules;
        if settings.nested {
            checks.push(quote! {
                ::fdl_lab::Validate::validate(&self.#ident)
                    .map_err(|e| ::fdl_lab::error::ConfigError::within(#key, e))?;
            });
            docs.push(quote! {
                ::fdl_lab::config::FieldDoc {
                    key: #key,
                    doc: #doc,
                    allowed: ::std::vec::Vec::new(),
                    nested: ::std::option::Option::Some(<#ty as ::fdl_lab::Validate>::fields()),
                }
            });
        } else {
            checks.push(quote! {
                #( ::fdl_lab::rules::apply(#key, &self.#ident, &#rules)?; )*
            });
            docs.push(quote! {
                ::fdl_lab::config::FieldDoc {
                    key: #key,
                    doc: #doc,
                    allowed: ::std::vec![#( ::fdl_lab::rules::Rule::<#ty>::allowed(&#rules) ),*],
                    nested: ::std::option::Option::None,
                }
            });
        }
    }
    let cross = struct_check(&input.attrs)?.map(|path| quote! { #path(self)?; });
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::fdl_lab::Validate for #name #ty_generics #where_clause {
            fn validate(&self) -> ::std::result::Result<(), ::fdl_lab::error::ConfigError> {
                #( #checks )*
                #cross
                ::std::result::Result::Ok(())
            }
            fn fields() -> ::std::vec::Vec<::fdl_lab::config::FieldDoc> {
                ::std::vec![#( #docs ),*]
            }
        }
    })
}

/// The doc comment, its lines joined by newlines, leading spaces trimmed.
fn doc_text(attrs: &[Attribute]) -> LitStr {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    LitStr::new(&lines.join("\n"), proc_macro2::Span::call_site())
}

fn field_settings(attrs: &[Attribute]) -> syn::Result<FieldSettings> {
    let mut settings = FieldSettings::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("config")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rule") {
                settings.rules.push(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("nested") {
                settings.nested = true;
                Ok(())
            } else {
                Err(meta.error("expected `rule = EXPR` or `nested`"))
            }
        })?;
    }
    Ok(settings)
}

fn struct_check(attrs: &[Attribute]) -> syn::Result<Option<Path>> {
    let mut check = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("config")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("check") {
                if check.is_some() {
                    return Err(meta.error("one `check` per struct: call the others from it"));
                }
                check = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `check = path::to::fn`"))
            }
        })?;
    }
    Ok(check)
}
