//! Published JWE test vectors: RFC 7520 (JOSE Cookbook) §5.1, §5.2, §5.4, §5.5, §5.6, §5.8,
//! §5.9 and §6, plus the X25519 ECDH-ES example of the JOSE Cookbook's curve25519 set (not in
//! an RFC). Values are copied from the published JSON of the examples; every token below
//! decrypts only if it is copied exactly (the authentication tag covers it).

use super::{
    ContentEncAlg, DecryptionKey, DecryptionKeys, JweExpectation, KeyManagementAlg, decrypt_compact,
};
use crate::{Algorithm, JoseError, Jwk, VerifyingKey, b64};

/// RFC 7520 §5.2.1 (RSA 4096-bit key, also the §6 recipient).
const SAMWISE_JWK: &str = concat!(
    "{\"kty\":\"RSA\",\"kid\":\"samwise.gamgee@hobbiton.example\",\"use\":\"enc\",\"n\":\"wbdxI5",
    "5VaanZXPY29Lg5hdmv2XhvqAhoxUkanfzf2-5zVUxa6prHRrI4pP1AhoqJRlZfYtWWd5mmHRG2pA",
    "HIlh0ySJ9wi0BioZBl1XP2e-C-FyXJGcTy0HdKQWlrfhTm42EW7Vv04r4gfao6uxjLGwfpGrZLar",
    "ohiWCPnkNrg71S2CuNZSQBIPGjXfkmIy2tl_VWgGnL22GplyXj5YlBLdxXp3XeStsqo571utNfoU",
    "TU8E4qdzJ3U1DItoVkPGsMwlmmnJiwA7sXRItBCivR4M5qnZtdw-7v4WuR4779ubDuJ5nalMv2S6",
    "6-RPcnFAzWSKxtBDnFJJDGIUe7Tzizjg1nms0Xq_yPub_UOlWn0ec85FCft1hACpWG8schrOBeNq",
    "HBODFskYpUc2LC5JA2TaPF2dA67dg1TTsC_FupfQ2kNGcE1LgprxKHcVWYQb86B-HozjHZcqtauB",
    "zFNV5tbTuB-TpkcvJfNcFLlH3b8mb-H_ox35FjqBSAjLKyoeqfKTpVjvXhd09knwgJf6VKq6UC41",
    "8_TOljMVfFTWXUxlnfhOOnzW6HSSzD1c9WrCuVzsUMv54szidQ9wf1cYWf3g5qFDxDQKis99gcDa",
    "iCAwM3yEBIzuNeeCa5dartHDb1xEB_HcHSeYbghbMjGfasvKn0aZRsnTyC0xhWBlsolZE\",\"e\":\"",
    "AQAB\",\"alg\":\"RSA-OAEP\",\"d\":\"n7fzJc3_WG59VEOBTkayzuSMM780OJQuZjN_KbH8lOZG25Zo",
    "A7T4Bxcc0xQn5oZE5uSCIwg91oCt0JvxPcpmqzaJZg1nirjcWZ-oBtVk7gCAWq-B3qhfF3izlbko",
    "srzjHajIcY33HBhsy4_WerrXg4MDNE4HYojy68TcxT2LYQRxUOCf5TtJXvM8olexlSGtVnQnDRut",
    "xEUCwiewfmmrfveEogLx9EA-KMgAjTiISXxqIXQhWUQX1G7v_mV_Hr2YuImYcNcHkRvp9E7ook08",
    "76DhkO8v4UOZLwA1OlUX98mkoqwc58A_Y2lBYbVx1_s5lpPsEqbbH-nqIjh1fL0gdNfihLxnclWt",
    "W7pCztLnImZAyeCWAG7ZIfv-Rn9fLIv9jZ6r7r-MSH9sqbuziHN2grGjD_jfRluMHa0l84fFKl6b",
    "cqN1JWxPVhzNZo01yDF-1LiQnqUYSepPf6X3a2SOdkqBRiquE6EvLuSYIDpJq3jDIsgoL8Mo1Loo",
    "mgiJxUwL_GWEOGu28gplyzm-9Q0U0nyhEf1uhSR8aJAQWAiFImWH5W_IQT9I7-yrindr_2fWQ_i1",
    "UgMsGzA7aOGzZfPljRy6z-tY_KuBG00-28S_aWvjyUc-Alp8AUyKjBZ-7CWH32fGWK48j1t-zomr",
    "wjL_mnhsPbGs0c9WsWgRzI-K8gE\",\"p\":\"7_2v3OQZzlPFcHyYfLABQ3XP85Es4hCdwCkbDeltaU",
    "XgVy9l9etKghvM4hRkOvbb01kYVuLFmxIkCDtpi-zLCYAdXKrAK3PtSbtzld_XZ9nlsYa_QZWpXB",
    "_IrtFjVfdKUdMz94pHUhFGFj7nr6NNxfpiHSHWFE1zD_AC3mY46J961Y2LRnreVwAGNw53p07Db8",
    "yD_92pDa97vqcZOdgtybH9q6uma-RFNhO1AoiJhYZj69hjmMRXx-x56HO9cnXNbmzNSCFCKnQmn4",
    "GQLmRj9sfbZRqL94bbtE4_e0Zrpo8RNo8vxRLqQNwIy85fc6BRgBJomt8QdQvIgPgWCv5HoQ\",\"q",
    "\":\"zqOHk1P6WN_rHuM7ZF1cXH0x6RuOHq67WuHiSknqQeefGBA9PWs6ZyKQCO-O6mKXtcgE8_Q_h",
    "A2kMRcKOcvHil1hqMCNSXlflM7WPRPZu2qCDcqssd_uMbP-DqYthH_EzwL9KnYoH7JQFxxmcv5An",
    "8oXUtTwk4knKjkIYGRuUwfQTus0w1NfjFAyxOOiAQ37ussIcE6C6ZSsM3n41UlbJ7TCqewzVJaPJ",
    "N5cxjySPZPD3Vp01a9YgAD6a3IIaKJdIxJS1ImnfPevSJQBE79-EXe2kSwVgOzvt-gsmM29QQ8ve",
    "Hy4uAqca5dZzMs7hkkHtw1z0jHV90epQJJlXXnH8Q\",\"dp\":\"19oDkBh1AXelMIxQFm2zZTqUhAz",
    "CIr4xNIGEPNoDt1jK83_FJA-xnx5kA7-1erdHdms_Ef67HsONNv5A60JaR7w8LHnDiBGnjdaUmmu",
    "O8XAxQJ_ia5mxjxNjS6E2yD44USo2JmHvzeeNczq25elqbTPLhUpGo1IZuG72FZQ5gTjXoTXC2-x",
    "tCDEUZfaUNh4IeAipfLugbpe0JAFlFfrTDAMUFpC3iXjxqzbEanflwPvj6V9iDSgjj8SozSM0dLt",
    "xvu0LIeIQAeEgT_yXcrKGmpKdSO08kLBx8VUjkbv_3Pn20Gyu2YEuwpFlM_H1NikuxJNKFGmnAq9",
    "LcnwwT0jvoQ\",\"dq\":\"S6p59KrlmzGzaQYQM3o0XfHCGvfqHLYjCO557HYQf72O9kLMCfd_1VBEq",
    "eD-1jjwELKDjck8kOBl5UvohK1oDfSP1DleAy-cnmL29DqWmhgwM1ip0CCNmkmsmDSlqkUXDi6sA",
    "aZuntyukyflI-qSQ3C_BafPyFaKrt1fgdyEwYa08pESKwwWisy7KnmoUvaJ3SaHmohFS78TJ25cf",
    "c10wZ9hQNOrIChZlkiOdFCtxDqdmCqNacnhgE3bZQjGp3n83ODSz9zwJcSUvODlXBPc2AycH6Ci5",
    "yjbxt4Ppox_5pjm6xnQkiPgj01GpsUssMmBN7iHVsrE7N2iznBNCeOUIQ\",\"qi\":\"FZhClBMywVV",
    "jnuUud-05qd5CYU0dK79akAgy9oX6RX6I3IIIPckCciRrokxglZn-omAY5CnCe4KdrnjFOT5YUZE",
    "7G_Pg44XgCXaarLQf4hl80oPEf6-jJ5Iy6wPRx7G2e8qLxnh9cOdf-kRqgOS3F48Ucvw3ma5V6KG",
    "MwQqWFeV31XtZ8l5cVI-I3NzBS7qltpUVgz2Ju021eyc7IlqgzR98qKONl27DuEES0aK0WE97jns",
    "yO27Yp88Wa2RiBrEocM89QZI1seJiGDizHRUP4UZxw9zsXww46wy0P6f9grnYp7t8LkyDDk8eoI4",
    "KX6SNMNVcyVS9IWjlq8EzqZEKIA\"}",
);

/// RFC 7520 §5.2.5 (RSA-OAEP, A256GCM).
const S5_2_COMPACT: &str = concat!(
    "eyJhbGciOiJSU0EtT0FFUCIsImtpZCI6InNhbXdpc2UuZ2FtZ2VlQGhvYmJpdG9uLmV4YW1wbGUi",
    "LCJlbmMiOiJBMjU2R0NNIn0.rT99rwrBTbTI7IJM8fU3Eli7226HEB7IchCxNuh7lCiud48Lxeol",
    "RdtFF4nzQibeYOl5S_PJsAXZwSXtDePz9hk-BbtsTBqC2UsPOdwjC9NhNupNNu9uHIVftDyucvI6",
    "hvALeZ6OGnhNV4v1zx2k7O1D89mAzfw-_kT3tkuorpDU-CpBENfIHX1Q58-Aad3FzMuo3Fn9buEP",
    "2yXakLXYa15BUXQsupM4A1GD4_H4Bd7V3u9h8Gkg8BpxKdUV9ScfJQTcYm6eJEBz3aSwIaK4T3-d",
    "wWpuBOhROQXBosJzS1asnuHtVMt2pKIIfux5BC6huIvmY7kzV7W7aIUrpYm_3H4zYvyMeq5pGqFm",
    "W2k8zpO878TRlZx7pZfPYDSXZyS0CfKKkMozT_qiCwZTSz4duYnt8hS4Z9sGthXn9uDqd6wycMag",
    "nQfOTs_lycTWmY-aqWVDKhjYNRf03NiwRtb5BE-tOdFwCASQj3uuAgPGrO2AWBe38UjQb0lvXn1S",
    "pyvYZ3WFc7WOJYaTa7A8DRn6MC6T-xDmMuxC0G7S2rscw5lQQU06MvZTlFOt0UvfuKBa03cxA_nI",
    "BIhLMjY2kOTxQMmpDPTr6Cbo8aKaOnx6ASE5Jx9paBpnNmOOKH35j_QlrQhDWUN6A2Gg8iFayJ69",
    "xDEdHAVCGRzN3woEI2ozDRs.-nBoKLH0YkLZPSI9.o4k2cnGN8rSSw3IDo1YuySkqeS_t2m1GXkl",
    "SgqBdpACm6UJuJowOHC5ytjqYgRL-I-soPlwqMUf4UgRWWeaOGNw6vGW-xyM01lTYxrXfVzIIaRd",
    "hYtEMRBvBWbEwP7ua1DRfvaOjgZv6Ifa3brcAM64d8p5lhhNcizPersuhw5f-pGYzseva-TUaL8i",
    "Wnctc-sSwy7SQmRkfhDjwbz0fz6kFovEgj64X1I5s7E6GLp5fnbYGLa1QUiML7Cc2GxgvI7zqWo0",
    "YIEc7aCflLG1-8BboVWFdZKLK9vNoycrYHumwzKluLWEbSVmaPpOslY2n525DxDfWaVFUfKQxMF5",
    "6vn4B9QMpWAbnypNimbM8zVOw.UCGiqJxhBI3IFVdPalHHvA",
);

/// RFC 7520 §5.4.1 (EC P-384 key).
const PEREGRIN_JWK: &str = concat!(
    "{\"kty\":\"EC\",\"kid\":\"peregrin.took@tuckborough.example\",\"use\":\"enc\",\"crv\":\"P-3",
    "84\",\"x\":\"YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2\",\"",
    "y\":\"A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP\",\"d\":\"i",
    "Tx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j\"}",
);

/// RFC 7520 §5.4.5 (ECDH-ES+A128KW, A128GCM).
const S5_4_COMPACT: &str = concat!(
    "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImtpZCI6InBlcmVncmluLnRvb2tAdHVja2Jvcm91Z2gu",
    "ZXhhbXBsZSIsImVwayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMzg0IiwieCI6InVCbzRrSFB3Nmti",
    "ang1bDB4b3dyZF9vWXpCbWF6LUdLRlp1NHhBRkZrYllpV2d1dEVLNml1RURzUTZ3TmROZzMiLCJ5",
    "Ijoic3AzcDVTR2haVkMyZmFYdW1JLWU5SlUyTW84S3BvWXJGRHI1eVBOVnRXNFBnRXdaT3lRVEEt",
    "SmRhWTh0YjdFMCJ9LCJlbmMiOiJBMTI4R0NNIn0.0DJjBXri_kBcC46IkU5_Jk9BqaQeHdv2.mH-",
    "G2zVqgztUtnW_.tkZuOO9h95OgHJmkkrfLBisku8rGf6nzVxhRM3sVOhXgz5NJ76oID7lpnAi_cP",
    "WJRCjSpAaUZ5dOR3Spy7QuEkmKx8-3RCMhSYMzsXaEwDdXta9Mn5B7cCBoJKB0IgEnj_qfo1hIi-",
    "uEkUpOZ8aLTZGHfpl05jMwbKkTe2yK3mjF6SBAsgicQDVCkcY9BLluzx1RmC3ORXaM0JaHPB93Yc",
    "dSDGgpgBWMVrNU1ErkjcMqMoT_wtCex3w03XdLkjXIuEr2hWgeP-nkUZTPU9EoGSPj6fAS-bSz87",
    "RCPrxZdj_iVyC6QWcqAu07WNhjzJEPc4jVntRJ6K53NgPQ5p99l3Z408OUqj4ioYezbS6vTPlQ.W",
    "uGzxmcreYjpHGJoa17EBg",
);

/// RFC 7520 §5.5.1 (EC P-256 key).
const MERIADOC_JWK: &str = concat!(
    "{\"kty\":\"EC\",\"kid\":\"meriadoc.brandybuck@buckland.example\",\"use\":\"enc\",\"crv\":\"",
    "P-256\",\"x\":\"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0\",\"y\":\"HlLtdXARY_f55A",
    "3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw\",\"d\":\"r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-i",
    "CM8\"}",
);

/// RFC 7520 §5.5.5 (ECDH-ES, A128CBC-HS256).
const S5_5_COMPACT: &str = concat!(
    "eyJhbGciOiJFQ0RILUVTIiwia2lkIjoibWVyaWFkb2MuYnJhbmR5YnVja0BidWNrbGFuZC5leGFt",
    "cGxlIiwiZXBrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoibVBVS1RfYkFXR0hJaGcw",
    "VHBqanFWc1AxclhXUXVfdndWT0hIdE5rZFlvQSIsInkiOiI4QlFBc0ltR2VBUzQ2ZnlXdzVNaFlm",
    "R1RUMElqQnBGdzJTUzM0RHY0SXJzIn0sImVuYyI6IkExMjhDQkMtSFMyNTYifQ..yc9N8v5sYyv3",
    "iGQT926IUg.BoDlwPnTypYq-ivjmQvAYJLb5Q6l-F3LIgQomlz87yW4OPKbWE1zSTEFjDfhU9IPI",
    "OSA9Bml4m7iDFwA-1ZXvHteLDtw4R1XRGMEsDIqAYtskTTmzmzNa-_q4F_evAPUmwlO-ZG45Mnq4",
    "uhM1fm_D9rBtWolqZSF3xGNNkpOMQKF1Cl8i8wjzRli7-IXgyirlKQsbhhqRzkv8IcY6aHl24j03",
    "C-AR2le1r7URUhArM79BY8soZU0lzwI-sD5PZ3l4NDCCei9XkoIAfsXJWmySPoeRb2Ni5UZL4mYp",
    "vKDiwmyzGd65KqVw7MsFfI_K767G9C9Azp73gKZD0DyUn1mn0WW5LmyX_yJ-3AROq8p1WZBfG-Zy",
    "J6195_JGG2m9Csg.WCCkNa-x4BeB9hIDIfFuhg",
);

/// RFC 7520 §5.6.1 (AES 128-bit key, "k").
const S5_6_KEY: &str = "XctOhJAkA-pD9Lh7ZgW_2A";

/// RFC 7520 §5.6.5 (dir, A128GCM).
const S5_6_COMPACT: &str = concat!(
    "eyJhbGciOiJkaXIiLCJraWQiOiI3N2M3ZTJiOC02ZTEzLTQ1Y2YtODY3Mi02MTdiNWI0NTI0M2Ei",
    "LCJlbmMiOiJBMTI4R0NNIn0..refa467QzzKx6QAB.JW_i_f52hww_ELQPGaYyeAB6HYGcR559l9",
    "TYnSovc23XJoBcW29rHP8yZOZG7YhLpT1bjFuvZPjQS-m0IFtVcXkZXdH_lr_FrdYt9HRUYkshtr",
    "MmIUAyGmUnd9zMDB2n0cRDIHAzFVeJUDxkUwVAE7_YGRPdcqMyiBoCO-FBdE-Nceb4h3-FtBP-c_",
    "BIwCPTjb9o0SbdcdREEMJMyZBH8ySWMVi1gPD9yxi-aQpGbSv_F9N4IZAxscj5g-NJsUPbjk29-s",
    "7LJAGb15wEBtXphVCgyy53CoIKLHHeJHXex45Uz9aKZSRSInZI-wjsY0yu3cT4_aQ3i1o-tiE-F8",
    "Ios61EKgyIQ4CWao8PFMj8TTnp.vbb32Xvllea2OtmHAdccRQ",
);

/// RFC 7520 §5.8.1 (AES 128-bit key, "k").
const S5_8_KEY: &str = "GZy6sIZ6wl9NJOKB-jnmVQ";

/// RFC 7520 §5.8.5 (A128KW, A128GCM).
const S5_8_COMPACT: &str = concat!(
    "eyJhbGciOiJBMTI4S1ciLCJraWQiOiI4MWIyMDk2NS04MzMyLTQzZDktYTQ2OC04MjE2MGFkOTFh",
    "YzgiLCJlbmMiOiJBMTI4R0NNIn0.CBI6oDw8MydIx1IBntf_lQcw2MmJKIQx.Qx0pmsDa8KnJc9J",
    "o.AwliP-KmWgsZ37BvzCefNen6VTbRK3QMA4TkvRkH0tP1bTdhtFJgJxeVmJkLD61A1hnWGetdg1",
    "1c9ADsnWgL56NyxwSYjU1ZEHcGkd3EkU0vjHi9gTlb90qSYFfeF0LwkcTtjbYKCsiNJQkcIp1yeM",
    "03OmuiYSoYJVSpf7ej6zaYcMv3WwdxDFl8REwOhNImk2Xld2JXq6BR53TSFkyT7PwVLuq-1GwtGH",
    "lQeg7gDT6xW0JqHDPn_H-puQsmthc9Zg0ojmJfqqFvETUxLAF-KjcBTS5dNy6egwkYtOt8EIHK-o",
    "EsKYtZRaa8Z7MOZ7UGxGIMvEmxrGCPeJa14slv2-gaqK0kEThkaSqdYw0FkQZF.ER7MWJZ1FBI_N",
    "Kvn7Zb1Lw",
);

/// RFC 7520 §5.1.1 (RSA 2048-bit key).
const FRODO_JWK: &str = concat!(
    "{\"kty\":\"RSA\",\"kid\":\"frodo.baggins@hobbiton.example\",\"use\":\"enc\",\"n\":\"maxhbsm",
    "BtdQ3CNrKvprUE6n9lYcregDMLYNeTAWcLj8NnPU9XIYegTHVHQjxKDSHP2l-F5jS7sppG1wgdAq",
    "ZyhnWvXhYNvcM7RfgKxqNx_xAHx6f3yy7s-M9PSNCwPC2lh6UAkR4I00EhV9lrypM9Pi4lBUop9t",
    "5fS9W5UNwaAllhrd-osQGPjIeI1deHTwx-ZTHu3C60Pu_LJIl6hKn9wbwaUmA4cR5Bd2pgbaY7AS",
    "gsjCUbtYJaNIHSoHXprUdJZKUMAzV0WOKPfA6OPI4oypBadjvMZ4ZAj3BnXaSYsEZhaueTXvZB4e",
    "ZOAjIyh2e_VOIKVMsnDrJYAVotGlvMQ\",\"e\":\"AQAB\",\"d\":\"Kn9tgoHfiTVi8uPu5b9TnwyHwG5",
    "dK6RE0uFdlpCGnJN7ZEi963R7wybQ1PLAHmpIbNTztfrheoAniRV1NCIqXaW_qS461xiDTp4ntEP",
    "nqcKsyO5jMAji7-CL8vhpYYowNFvIesgMoVaPRYMYT9TW63hNM0aWs7USZ_hLg6Oe1mY0vHTI3Fu",
    "cjSM86Nff4oIENt43r2fspgEPGRrdE6fpLc9Oaq-qeP1GFULimrRdndm-P8q8kvN3KHlNAtEgrQA",
    "gTTgz80S-3VD0FgWfgnb1PNmiuPUxO8OpI9KDIfu_acc6fg14nsNaJqXe6RESvhGPH2afjHqSy_F",
    "d2vpzj85bQQ\",\"p\":\"2DwQmZ43FoTnQ8IkUj3BmKRf5Eh2mizZA5xEJ2MinUE3sdTYKSLtaEoekX",
    "9vbBZuWxHdVhM6UnKCJ_2iNk8Z0ayLYHL0_G21aXf9-unynEpUsH7HHTklLpYAzOOx1ZgVljoxAd",
    "WNn3hiEFrjZLZGS7lOH-a3QQlDDQoJOJ2VFmU\",\"q\":\"te8LY4-W7IyaqH1ExujjMqkTAlTeRbv0",
    "VLQnfLY2xINnrWdwiQ93_VF099aP1ESeLja2nw-6iKIe-qT7mtCPozKfVtUYfz5HrJ_XY2kfexJI",
    "Nb9lhZHMv5p1skZpeIS-GPHCC6gRlKo1q-idn_qxyusfWv7WAxlSVfQfk8d6Et0\",\"dp\":\"UfYKc",
    "L_or492vVc0PzwLSplbg4L3-Z5wL48mwiswbpzOyIgd2xHTHQmjJpFAIZ8q-zf9RmgJXkDrFs9rk",
    "dxPtAsL1WYdeCT5c125Fkdg317JVRDo1inX7x2Kdh8ERCreW8_4zXItuTl_KiXZNU5lvMQjWbIw2",
    "eTx1lpsflo0rYU\",\"dq\":\"iEgcO-QfpepdH8FWd7mUFyrXdnOkXJBCogChY6YKuIHGc_p8Le9Mbp",
    "FKESzEaLlN1Ehf3B6oGBl5Iz_ayUlZj2IoQZ82znoUrpa9fVYNot87ACfzIG7q9Mv7RiPAderZi0",
    "3tkVXAdaBau_9vs5rS-7HMtxkVrxSUvJY14TkXlHE\",\"qi\":\"kC-lzZOqoFaZCr5l0tOVtREKoVq",
    "aAYhQiqIRGL-MzS4sCmRkxm5vZlXYx6RtE1n_AagjqajlkjieGlxTTThHD8Iga6foGBMaAr5uR1h",
    "GQpSc7Gl7CF1DZkBJMTQN6EshYzZfxW08mIO8M6Rzuh0beL6fG9mkDcIyPrBXx2bQ_mM\"}",
);

/// RFC 7520 §5.1.5 (RSA1_5, A128CBC-HS256).
const S5_1_COMPACT: &str = concat!(
    "eyJhbGciOiJSU0ExXzUiLCJraWQiOiJmcm9kby5iYWdnaW5zQGhvYmJpdG9uLmV4YW1wbGUiLCJl",
    "bmMiOiJBMTI4Q0JDLUhTMjU2In0.laLxI0j-nLH-_BgLOXMozKxmy9gffy2gTdvqzfTihJBuuzxg",
    "0V7yk1WClnQePFvG2K-pvSlWc9BRIazDrn50RcRai__3TDON395H3c62tIouJJ4XaRvYHFjZTZ2G",
    "Xfz8YAImcc91Tfk0WXC2F5Xbb71ClQ1DDH151tlpH77f2ff7xiSxh9oSewYrcGTSLUeeCt36r1Kt",
    "3OSj7EyBQXoZlN7IxbyhMAfgIe7Mv1rOTOI5I8NQqeXXW8VlzNmoxaGMny3YnGir5Wf6Qt2nBq4q",
    "DaPdnaAuuGUGEecelIO1wx1BpyIfgvfjOhMBs9M8XL223Fg47xlGsMXdfuY-4jaqVw.bbd5sTkYw",
    "hAIqfHsx8DayA.0fys_TY_na7f8dwSfXLiYdHaA2DxUjD67ieF7fcVbIR62JhJvGZ4_FNVSiGc_r",
    "aa0HnLQ6s1P2sv3Xzl1p1l_o5wR_RsSzrS8Z-wnI3Jvo0mkpEEnlDmZvDu_k8OWzJv7eZVEqiWKd",
    "yVzFhPpiyQU28GLOpRc2VbVbK4dQKPdNTjPPEmRqcaGeTWZVyeSUvf5k59yJZxRuSvWFf6KrNtmR",
    "dZ8R4mDOjHSrM_s8uwIFcqt4r5GX8TKaI0zT5CbL5Qlw3sRc7u_hg0yKVOiRytEAEs3vZkcfLkP6",
    "nbXdC_PkMdNS-ohP78T2O6_7uInMGhFeX4ctHG7VelHGiT93JfWDEQi5_V9UN1rhXNrYu-0fVMkZ",
    "AKX3VWi7lzA6BP430m.kvKuFBXHe5mQr4lqgobAUg",
);

/// RFC 7520 §5.9.5 (A128KW, A128GCM, zip DEF; key of §5.8).
const S5_9_COMPACT: &str = concat!(
    "eyJhbGciOiJBMTI4S1ciLCJraWQiOiI4MWIyMDk2NS04MzMyLTQzZDktYTQ2OC04MjE2MGFkOTFh",
    "YzgiLCJlbmMiOiJBMTI4R0NNIiwiemlwIjoiREVGIn0.5vUT2WOtQxKWcekM_IzVQwkGgzlFDwPi",
    ".p9pUq6XHY0jfEZIl.HbDtOsdai1oYziSx25KEeTxmwnh8L8jKMFNc1k3zmMI6VB8hry57tDZ61j",
    "XyezSPt0fdLVfe6Jf5y5-JaCap_JQBcb5opbmT60uWGml8blyiMQmOn9J--XhhlYg0m-BHaqfDO5",
    "iTOWxPxFMUedx7WCy8mxgDHj0aBMG6152PsM-w5E_o2B3jDbrYBKhpYA7qi3AyijnCJ7BP9rr3U8",
    "kxExCpG3mK420TjOw.VILuUwuIxaLVmh5X-T7kmA",
);

/// RFC 7520 §6: the signer's public key (RSA 2048-bit).
const HOBBITON_SIG_JWK: &str = concat!(
    "{\"kty\":\"RSA\",\"kid\":\"hobbiton.example\",\"use\":\"sig\",\"n\":\"kNrPIBDXMU6fcyv5i-QHQ",
    "AQ-K8gsC3HJb7FYhYaw8hXbNJa-t8q0lDKwLZgQXYV-ffWxXJv5GGrlZE4GU52lfMEegTDzYTrRQ",
    "3tepgKFjMGg6Iy6fkl1ZNsx2gEonsnlShfzA9GJwRTmtKPbk1s-hwx1IU5AT-AIelNqBgcF2vE5W",
    "25_SGGBoaROVdUYxqETDggM1z5cKV4ZjDZ8-lh4oVB07bkac6LQdHpJUUySH_Er20DXx30Kyi97P",
    "ciXKTS-QKXnmm8ivyRCmux22ZoPUind2BKC5OiG4MwALhaL2Z2k8CsRdfy-7dg7z41Rp6D0ZeEvt",
    "aUp4bX4aKraL4rTfw\",\"e\":\"AQAB\"}",
);

/// RFC 7520 §6: the inner PS256 JWS.
const S6_JWS: &str = concat!(
    "eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJob2JiaXRvbi5leGFtcGxlIiwiZXh",
    "wIjoxMzAwODE5MzgwLCJodHRwOi8vZXhhbXBsZS5jb20vaXNfcm9vdCI6dHJ1ZX0.dPpMqwRZxFY",
    "i1UfcDAaf8M99o7kwUWtiXZ-ByvVuJih4MhJ_aZqciprz0OWaIAkIvn1qskChirjKvY9ESZNUCP4",
    "JjvfyPS-nqjJxYoA5ztWOyFk2cZNIPXjcJXSQwXPO9tEe-v4VSqgD0aKHqPxYog4N6Cz1lKph1U1",
    "sYDSI67_bLL7elg_vkjfMp5_W5l5LuUYGMeh6hxQIaIUXf9EwV2JmvTMuZ-vBOWy0Sniy1EFo72C",
    "RTvmtrIf5AROo5MNliY3KtUxeP-SOmD-LEYwW9SlkohYzMVAZDDOrVbv7KVRHpeYNaK75KEQqdCE",
    "EkS_rskZS-Qtt_nlegTWh1mEYaA",
);

/// RFC 7520 §6: the JWS encrypted with RSA-OAEP, A128GCM, cty JWT.
const S6_COMPACT: &str = concat!(
    "eyJhbGciOiJSU0EtT0FFUCIsImN0eSI6IkpXVCIsImVuYyI6IkExMjhHQ00ifQ.a0JHRoITfpX4q",
    "RewImjlStn8m3CPxBV1ueYlVhjurCyrBg3I7YhCRYjphDOOS4E7rXbr2Fn6NyQq-A-gqT0FXqNjV",
    "OGrG-bi13mwy7RoYhjTkBEC6P7sMYMXXx4gzMedpiJHQVeyI-zkZV7A9matpgevAJWrXzOUysYGT",
    "twoSN6gtUVtlLaivjvb21O0ul4YxSHV-ByK1kyeetRp_fuYJxHoKLQL9P424sKx2WGYb4zsBIPF4",
    "ssl_e5IR7nany-25_UmC2urosNkoFz9cQ82MypZP8gqbQJyPN-Fpp4Z-5o6yV64x6yzDUF_5JCId",
    "l-Qv6H5dMVIY7q1eKpXcV1lWO_2FefEBqXxXvIjLeZivjNkzogCq3-IapSjVFnMjBxjpYLT8muaa",
    "wo1yy1XXMuinIpNcOY3n4KKrXLrCcteX85m4IIHMZa38s1Hpr56fPPseMA-Jltmt-a9iEDtOzhtx",
    "z8AXy9tsCAZV2XBWNG8c3kJusAamBKOYwfk7JhLRDgOnJjlJLhn7TI4UxDp9dCmUXEN6z0v23W15",
    "qJIEXNJtqnblpymooeWAHCT4e_Owbim1g0AEpTHUdA2iiLNs9WTX_H_TXuPC8yDDhi1smxS_X_xp",
    "kIHkiIHWDOLx03BpqDTivpKkBYwqP2UZkcxqX2Fo_GnVrNwlK7Lgxw6FSQvDO0.GbX1i9kXz0sxX",
    "PmA.SZI4IvKHmwpazl_pJQXX3mHv1ANnOU4Wf9-utWYUcKrBNgCe2OFMf66cSJ8k2QkxaQD3_R60",
    "MGE9ofomwtky3GFxMeGRjtpMt9OAvVLsAXB0_UTCBGyBg3C2bWLXqZlfJAAoJRUPRk-BimYZY81z",
    "VBuIhc7HsQePCpu33SzMsFHjn4lP_idrJz_glZTNgKDt8zdnUPauKTKDNOH1DD4fuzvDYfDIAfqG",
    "PyL5sVRwbiXpXdGokEszM-9ChMPqW1QNhzuX_Zul3bvrJwr7nuGZs4cUScY3n8yE3AHCLurgls-A",
    "9mz1X38xEaulV18l4Fg9tLejdkAuQZjPbqeHQBJe4IwGD5Ee0dQ-Mtz4NnhkIWx-YKBb_Xo2zI3Q",
    "_1sYjKUuis7yWW-HTr_vqvFt0bj7WJf2vzB0TZ3dvsoGaTvPH2dyWwumUrlx4gmPUzBdwTO6ubfY",
    "SDUEEz5py0d_OtWeUSYcCYBKD-aM7tXg26qJo21gYjLfhn9zy-W19sOCZGuzgFjPhawXHpvnj_t-",
    "0_ES96kogjJLxS1IMU9Y5XmnwZMyNc9EIwnogsCg-hVuvzyP0sIruktmI94_SL1xgMl7o03phcTM",
    "xtlMizR88NKU1WkBsiXMCjy1Noue7MD-ShDp5dmM.KnIKEhN8U-3C9s4gtSpjSw",
);

/// JOSE Cookbook curve25519/ecdh-es.json: X25519 key "Bob".
const X25519_BOB_JWK: &str = concat!(
    "{\"kty\":\"OKP\",\"kid\":\"Bob\",\"use\":\"enc\",\"crv\":\"X25519\",\"x\":\"3p7bfXt9wbTTW2HC7OQ",
    "1Nz-DQ8hbeGdNrfx-FG-IK08\",\"d\":\"XasIfmJKikt54X-Lg4AO5m87sSkmGLb9HC-LJ_-I4Os\"}",
);

/// JOSE Cookbook curve25519/ecdh-es.json: ECDH-ES (X25519), A128GCM.
const X25519_COMPACT: &str = concat!(
    "eyJhbGciOiJFQ0RILUVTIiwia2lkIjoiQm9iIiwiZXBrIjp7Imt0eSI6Ik9LUCIsImNydiI6Ilgy",
    "NTUxOSIsIngiOiJ4dlhIaDNRMlM0Vm90WGdCZGRHV0RfS2huellaX2V1QjJlYWVrTHZ2QURVIn0s",
    "ImVuYyI6IkExMjhHQ00ifQ..0tCoBvRfolezYjpJ.cX3qZ4cfxiyr_Leem1b69MeLo-BHsMJy6Re",
    "tGse91pgXjR7X87k1e7dJliYfzgseMV9dcVo3i1cAPeU2jkDCxrjxIBW0iUlF3JfkVH7DU3B8Gxz",
    "kblOJKwJE58Sd0rJEN9rSwfLf66sbTiY_vGYf7cZhbWhj6wwBnICFfaRh_2NubCdma7zX_vsdaGJ",
    "XHn-6-jjR9UaQUbJD-tPn5UAW8Sa9lPAcncYZywscUM-FET3tePOH2h_xv_LFGuN2KYJ3BED_Eyo",
    "--oSX17DD7ksSt0wfzy_TWczaG1E_TWn4nvP6T6d5nMp9OdfLWQNopQHoQGWlPbaRLHCk2mNl1K5",
    "GsJ6Q4tjSdFWpqRDpQUz2eYAk.Yd4jUyp_PC5cACOwaAGwUQ",
);

/// The plaintext of RFC 7520 §5, with U+2013 EN DASH.
const PLAINTEXT: &str = "You can trust us to stick with you through thick and thin\u{2013}to the bitter end. And you can trust us to keep any secret of yours\u{2013}closer than you keep it yourself. But you cannot trust us to let you face trouble alone, and go off without a word. We are your friends, Frodo.";

/// RFC 7520 §6: the inner JWS payload.
const S6_PAYLOAD: &str =
    "{\"iss\":\"hobbiton.example\",\"exp\":1300819380,\"http://example.com/is_root\":true}";

fn expect(alg: KeyManagementAlg, enc: ContentEncAlg) -> JweExpectation {
    JweExpectation::new(alg, enc)
}

fn keys(jwk: &str) -> DecryptionKeys {
    DecryptionKeys::new()
        .with_key(DecryptionKey::from_jwk_json(jwk).unwrap())
        .unwrap()
}

#[test]
fn rfc7520_5_2_rsa_oaep_a256gcm() {
    let out = decrypt_compact(
        S5_2_COMPACT,
        &expect(KeyManagementAlg::RsaOaep, ContentEncAlg::A256Gcm),
        &keys(SAMWISE_JWK),
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
    assert_eq!(out.key_id(), Some("samwise.gamgee@hobbiton.example"));
    assert!(!out.is_nested_jwt());
}

#[test]
fn rfc7520_5_4_ecdh_es_a128kw_a128gcm_p384() {
    let out = decrypt_compact(
        S5_4_COMPACT,
        &expect(KeyManagementAlg::EcdhEsA128Kw, ContentEncAlg::A128Gcm),
        &keys(PEREGRIN_JWK),
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
}

#[test]
fn rfc7520_5_5_ecdh_es_a128cbc_hs256_p256() {
    let out = decrypt_compact(
        S5_5_COMPACT,
        &expect(KeyManagementAlg::EcdhEs, ContentEncAlg::A128CbcHs256),
        &keys(MERIADOC_JWK),
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
    // The P-384 key of §5.4 is on another curve than the epk.
    assert!(matches!(
        decrypt_compact(
            S5_5_COMPACT,
            &expect(KeyManagementAlg::EcdhEs, ContentEncAlg::A128CbcHs256),
            &DecryptionKeys::new()
                .with_key(
                    DecryptionKey::from_jwk_json(PEREGRIN_JWK)
                        .unwrap()
                        .with_kid("meriadoc.brandybuck@buckland.example")
                )
                .unwrap(),
        ),
        Err(JoseError::InvalidEphemeralKey { .. })
    ));
}

#[test]
fn rfc7520_5_6_dir_a128gcm() {
    let key = b64::decode(S5_6_KEY).unwrap();
    let keys = DecryptionKeys::new().with_raw_symmetric_key(&key);
    let out = decrypt_compact(
        S5_6_COMPACT,
        &expect(KeyManagementAlg::Dir, ContentEncAlg::A128Gcm),
        &keys,
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
    assert_eq!(out.key_id(), None);
}

#[test]
fn rfc7520_5_8_a128kw_a128gcm() {
    let key = b64::decode(S5_8_KEY).unwrap();
    let keys = DecryptionKeys::new().with_raw_symmetric_key(&key);
    let out = decrypt_compact(
        S5_8_COMPACT,
        &expect(KeyManagementAlg::A128Kw, ContentEncAlg::A128Gcm),
        &keys,
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
}

#[test]
fn rfc7520_5_1_rsa1_5_is_refused() {
    assert!("RSA1_5".parse::<KeyManagementAlg>().is_err());
    for alg in [KeyManagementAlg::RsaOaep, KeyManagementAlg::RsaOaep256] {
        let err = decrypt_compact(
            S5_1_COMPACT,
            &expect(alg, ContentEncAlg::A128CbcHs256),
            &keys(FRODO_JWK),
        )
        .unwrap_err();
        assert!(
            matches!(&err, JoseError::JweAlgorithmMismatch { header_alg, .. } if header_alg == "RSA1_5"),
            "{err:?}"
        );
    }
}

#[test]
fn rfc7520_5_9_compressed_content_is_refused() {
    let key = b64::decode(S5_8_KEY).unwrap();
    let keys = DecryptionKeys::new().with_raw_symmetric_key(&key);
    assert_eq!(
        decrypt_compact(
            S5_9_COMPACT,
            &expect(KeyManagementAlg::A128Kw, ContentEncAlg::A128Gcm),
            &keys,
        )
        .unwrap_err(),
        JoseError::JweCompressionRefused
    );
}

/// Sign-then-encrypt: the plaintext is a JWS, verified with the existing JWS verifier.
#[test]
fn rfc7520_6_nested_jws_in_jwe() {
    let out = decrypt_compact(
        S6_COMPACT,
        &expect(KeyManagementAlg::RsaOaep, ContentEncAlg::A128Gcm),
        &keys(SAMWISE_JWK),
    )
    .unwrap();
    assert!(out.is_nested_jwt());
    assert_eq!(out.cty(), Some("JWT"));
    assert_eq!(out.plaintext(), S6_JWS.as_bytes());
    let inner = out.nested_jws().unwrap();
    let signer = VerifyingKey::from_jwk(&Jwk::from_json(HOBBITON_SIG_JWK).unwrap()).unwrap();
    assert_eq!(
        inner.verify(Algorithm::PS256, &signer).unwrap(),
        S6_PAYLOAD.as_bytes()
    );
    // The inner JWS is held to its own pinned algorithm.
    assert!(matches!(
        inner.verify(Algorithm::RS256, &signer),
        Err(JoseError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn cookbook_x25519_ecdh_es_a128gcm() {
    let out = decrypt_compact(
        X25519_COMPACT,
        &expect(KeyManagementAlg::EcdhEs, ContentEncAlg::A128Gcm),
        &keys(X25519_BOB_JWK),
    )
    .unwrap();
    assert_eq!(out.plaintext(), PLAINTEXT.as_bytes());
    assert_eq!(out.key_id(), Some("Bob"));
}
