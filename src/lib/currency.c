/*
 * currency.c - the ISO 4217 table: codes, minor-unit exponents, names.
 *
 * List one of ISO 4217 as of 2026 (up to amendment 178 and the euro
 * changeover of Bulgaria), plus withdrawn codes that old feeds still carry
 * (the ECB history file quotes CYP, EEK, LTL, ... until their euro
 * changeover), marked historic. Codes with no minor unit in ISO 4217
 * ("N.A.": XAU, XAG, XDR, XTS, XXX, ...) are not currencies an amount can
 * be kept in and are left out.
 *
 * The table must stay sorted by code: lookups use bsearch, and
 * check_currency verifies the order.
 */
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

static const struct dg_currency currencies[] = {
	{"AED", 2, false, "UAE Dirham"},
	{"AFN", 2, false, "Afghani"},
	{"ALL", 2, false, "Lek"},
	{"AMD", 2, false, "Armenian Dram"},
	{"ANG", 2, true, "Netherlands Antillean Guilder"},
	{"AOA", 2, false, "Kwanza"},
	{"ARS", 2, false, "Argentine Peso"},
	{"AUD", 2, false, "Australian Dollar"},
	{"AWG", 2, false, "Aruban Florin"},
	{"AZN", 2, false, "Azerbaijan Manat"},
	{"BAM", 2, false, "Convertible Mark"},
	{"BBD", 2, false, "Barbados Dollar"},
	{"BDT", 2, false, "Taka"},
	{"BGN", 2, true, "Bulgarian Lev"},
	{"BHD", 3, false, "Bahraini Dinar"},
	{"BIF", 0, false, "Burundi Franc"},
	{"BMD", 2, false, "Bermudian Dollar"},
	{"BND", 2, false, "Brunei Dollar"},
	{"BOB", 2, false, "Boliviano"},
	{"BOV", 2, false, "Mvdol"},
	{"BRL", 2, false, "Brazilian Real"},
	{"BSD", 2, false, "Bahamian Dollar"},
	{"BTN", 2, false, "Ngultrum"},
	{"BWP", 2, false, "Pula"},
	{"BYN", 2, false, "Belarusian Ruble"},
	{"BZD", 2, false, "Belize Dollar"},
	{"CAD", 2, false, "Canadian Dollar"},
	{"CDF", 2, false, "Congolese Franc"},
	{"CHE", 2, false, "WIR Euro"},
	{"CHF", 2, false, "Swiss Franc"},
	{"CHW", 2, false, "WIR Franc"},
	{"CLF", 4, false, "Unidad de Fomento"},
	{"CLP", 0, false, "Chilean Peso"},
	{"CNY", 2, false, "Yuan Renminbi"},
	{"COP", 2, false, "Colombian Peso"},
	{"COU", 2, false, "Unidad de Valor Real"},
	{"CRC", 2, false, "Costa Rican Colon"},
	{"CUC", 2, true, "Peso Convertible"},
	{"CUP", 2, false, "Cuban Peso"},
	{"CVE", 2, false, "Cabo Verde Escudo"},
	{"CYP", 2, true, "Cyprus Pound"},
	{"CZK", 2, false, "Czech Koruna"},
	{"DJF", 0, false, "Djibouti Franc"},
	{"DKK", 2, false, "Danish Krone"},
	{"DOP", 2, false, "Dominican Peso"},
	{"DZD", 2, false, "Algerian Dinar"},
	{"EEK", 2, true, "Kroon"},
	{"EGP", 2, false, "Egyptian Pound"},
	{"ERN", 2, false, "Nakfa"},
	{"ETB", 2, false, "Ethiopian Birr"},
	{"EUR", 2, false, "Euro"},
	{"FJD", 2, false, "Fiji Dollar"},
	{"FKP", 2, false, "Falkland Islands Pound"},
	{"GBP", 2, false, "Pound Sterling"},
	{"GEL", 2, false, "Lari"},
	{"GHS", 2, false, "Ghana Cedi"},
	{"GIP", 2, false, "Gibraltar Pound"},
	{"GMD", 2, false, "Dalasi"},
	{"GNF", 0, false, "Guinean Franc"},
	{"GTQ", 2, false, "Quetzal"},
	{"GYD", 2, false, "Guyana Dollar"},
	{"HKD", 2, false, "Hong Kong Dollar"},
	{"HNL", 2, false, "Lempira"},
	{"HRK", 2, true, "Kuna"},
	{"HTG", 2, false, "Gourde"},
	{"HUF", 2, false, "Forint"},
	{"IDR", 2, false, "Rupiah"},
	{"ILS", 2, false, "New Israeli Sheqel"},
	{"INR", 2, false, "Indian Rupee"},
	{"IQD", 3, false, "Iraqi Dinar"},
	{"IRR", 2, false, "Iranian Rial"},
	{"ISK", 0, false, "Iceland Krona"},
	{"JMD", 2, false, "Jamaican Dollar"},
	{"JOD", 3, false, "Jordanian Dinar"},
	{"JPY", 0, false, "Yen"},
	{"KES", 2, false, "Kenyan Shilling"},
	{"KGS", 2, false, "Som"},
	{"KHR", 2, false, "Riel"},
	{"KMF", 0, false, "Comorian Franc"},
	{"KPW", 2, false, "North Korean Won"},
	{"KRW", 0, false, "Won"},
	{"KWD", 3, false, "Kuwaiti Dinar"},
	{"KYD", 2, false, "Cayman Islands Dollar"},
	{"KZT", 2, false, "Tenge"},
	{"LAK", 2, false, "Lao Kip"},
	{"LBP", 2, false, "Lebanese Pound"},
	{"LKR", 2, false, "Sri Lanka Rupee"},
	{"LRD", 2, false, "Liberian Dollar"},
	{"LSL", 2, false, "Loti"},
	{"LTL", 2, true, "Lithuanian Litas"},
	{"LVL", 2, true, "Latvian Lats"},
	{"LYD", 3, false, "Libyan Dinar"},
	{"MAD", 2, false, "Moroccan Dirham"},
	{"MDL", 2, false, "Moldovan Leu"},
	{"MGA", 2, false, "Malagasy Ariary"},
	{"MKD", 2, false, "Denar"},
	{"MMK", 2, false, "Kyat"},
	{"MNT", 2, false, "Tugrik"},
	{"MOP", 2, false, "Pataca"},
	{"MRU", 2, false, "Ouguiya"},
	{"MTL", 2, true, "Maltese Lira"},
	{"MUR", 2, false, "Mauritius Rupee"},
	{"MVR", 2, false, "Rufiyaa"},
	{"MWK", 2, false, "Malawi Kwacha"},
	{"MXN", 2, false, "Mexican Peso"},
	{"MXV", 2, false, "Mexican Unidad de Inversion (UDI)"},
	{"MYR", 2, false, "Malaysian Ringgit"},
	{"MZN", 2, false, "Mozambique Metical"},
	{"NAD", 2, false, "Namibia Dollar"},
	{"NGN", 2, false, "Naira"},
	{"NIO", 2, false, "Cordoba Oro"},
	{"NOK", 2, false, "Norwegian Krone"},
	{"NPR", 2, false, "Nepalese Rupee"},
	{"NZD", 2, false, "New Zealand Dollar"},
	{"OMR", 3, false, "Rial Omani"},
	{"PAB", 2, false, "Balboa"},
	{"PEN", 2, false, "Sol"},
	{"PGK", 2, false, "Kina"},
	{"PHP", 2, false, "Philippine Peso"},
	{"PKR", 2, false, "Pakistan Rupee"},
	{"PLN", 2, false, "Zloty"},
	{"PYG", 0, false, "Guarani"},
	{"QAR", 2, false, "Qatari Rial"},
	{"ROL", 2, true, "Romanian Leu (old)"},
	{"RON", 2, false, "Romanian Leu"},
	{"RSD", 2, false, "Serbian Dinar"},
	{"RUB", 2, false, "Russian Ruble"},
	{"RWF", 0, false, "Rwanda Franc"},
	{"SAR", 2, false, "Saudi Riyal"},
	{"SBD", 2, false, "Solomon Islands Dollar"},
	{"SCR", 2, false, "Seychelles Rupee"},
	{"SDG", 2, false, "Sudanese Pound"},
	{"SEK", 2, false, "Swedish Krona"},
	{"SGD", 2, false, "Singapore Dollar"},
	{"SHP", 2, false, "Saint Helena Pound"},
	{"SIT", 2, true, "Tolar"},
	{"SKK", 2, true, "Slovak Koruna"},
	{"SLE", 2, false, "Leone"},
	{"SLL", 2, true, "Leone"},
	{"SOS", 2, false, "Somali Shilling"},
	{"SRD", 2, false, "Surinam Dollar"},
	{"SSP", 2, false, "South Sudanese Pound"},
	{"STN", 2, false, "Dobra"},
	{"SVC", 2, false, "El Salvador Colon"},
	{"SYP", 2, false, "Syrian Pound"},
	{"SZL", 2, false, "Lilangeni"},
	{"THB", 2, false, "Baht"},
	{"TJS", 2, false, "Somoni"},
	{"TMT", 2, false, "Turkmenistan New Manat"},
	{"TND", 3, false, "Tunisian Dinar"},
	{"TOP", 2, false, "Pa'anga"},
	{"TRL", 0, true, "Turkish Lira (old)"},
	{"TRY", 2, false, "Turkish Lira"},
	{"TTD", 2, false, "Trinidad and Tobago Dollar"},
	{"TWD", 2, false, "New Taiwan Dollar"},
	{"TZS", 2, false, "Tanzanian Shilling"},
	{"UAH", 2, false, "Hryvnia"},
	{"UGX", 0, false, "Uganda Shilling"},
	{"USD", 2, false, "US Dollar"},
	{"USN", 2, false, "US Dollar (Next day)"},
	{"UYI", 0, false, "Uruguay Peso en Unidades Indexadas (UI)"},
	{"UYU", 2, false, "Peso Uruguayo"},
	{"UYW", 4, false, "Unidad Previsional"},
	{"UZS", 2, false, "Uzbekistan Sum"},
	{"VED", 2, false, "Bolivar Soberano"},
	{"VES", 2, false, "Bolivar Soberano"},
	{"VND", 0, false, "Dong"},
	{"VUV", 0, false, "Vatu"},
	{"WST", 2, false, "Tala"},
	{"XAF", 0, false, "CFA Franc BEAC"},
	{"XCD", 2, false, "East Caribbean Dollar"},
	{"XCG", 2, false, "Caribbean Guilder"},
	{"XOF", 0, false, "CFA Franc BCEAO"},
	{"XPF", 0, false, "CFP Franc"},
	{"YER", 2, false, "Yemeni Rial"},
	{"ZAR", 2, false, "Rand"},
	{"ZMW", 2, false, "Zambian Kwacha"},
	{"ZWG", 2, false, "Zimbabwe Gold"},
	{"ZWL", 2, true, "Zimbabwe Dollar"},
};

#define NCURRENCIES (sizeof(currencies) / sizeof(currencies[0]))

static int cmp_code(const void *key, const void *elem)
{
	const struct dg_currency *c = elem;

	return strcmp(key, c->code);
}

static bool well_formed(const char *code)
{
	int i;

	if (!code)
		return false;
	for (i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return false;
	return code[3] == '\0';
}

const struct dg_currency *dg_currency_lookup(const char *code)
{
	if (!well_formed(code))
		return NULL;
	return bsearch(code, currencies, NCURRENCIES, sizeof(currencies[0]),
		       cmp_code);
}

int dg_currency_exponent(const char *code)
{
	const struct dg_currency *c = dg_currency_lookup(code);

	return c ? c->exponent : -1;
}

size_t dg_currency_count(void)
{
	return NCURRENCIES;
}

const struct dg_currency *dg_currency_at(size_t i)
{
	return i < NCURRENCIES ? &currencies[i] : NULL;
}
