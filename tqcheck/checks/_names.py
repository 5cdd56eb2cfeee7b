"""Names that translation changes: countries, regions, cities, institutions, holidays, months, days.

The entities check must not flag "Allemagne" as missing from "Germany", nor "mercredi" from
"Wednesday". Countries, regions, language names, months and days come from CLDR through Babel, for
the languages of the segment (and the few this list is written in), so any CLDR locale is covered;
cities, institutions and a few other exonyms that CLDR does not cover are listed here by hand. Each
group is one concept; two names of a concept are translations of each other.
"""

from __future__ import annotations

from functools import cache

from tqcheck.checks._text import fold
from tqcheck.langcodes import base_lang

#: Languages the hand-written lists below are in: their CLDR names are always loaded too.
BASE_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl")
#: Languages whose names are loaded in every language (the names a news text most often writes).
NAMED_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl", "ar", "zh", "ja", "ru", "uk", "pl", "tr", "ko",
                   "hi", "el", "sv", "da", "no", "fi", "cs", "ro", "hu", "he", "fa")

# One concept per line, names separated by "|".
_MANUAL = """
United States|US|U.S.|USA|U.S.A.|America|Etats-Unis|EU|EE.UU.|EEUU|Amérique|Estados Unidos|USA|Stati Uniti|Vereinigte Staaten
United Kingdom|UK|U.K.|Britain|Great Britain|Royaume-Uni|Grande-Bretagne|Reino Unido|Gran Bretaña|Großbritannien|Regno Unito|Gran Bretagna|Grã-Bretanha|Verenigd Koninkrijk|Groot-Brittannië
England|Angleterre|Inglaterra|Inghilterra|Engeland
Scotland|Ecosse|Écosse|Escocia|Schottland|Scozia|Escócia|Schotland
Wales|Galles|Gales|Galles|Gales|País de Gales
Netherlands|Holland|Pays-Bas|Hollande|Países Bajos|Holanda|Niederlande|Paesi Bassi|Olanda|Nederland
Czech Republic|Czechia|République tchèque|Tchéquie|República Checa|Tschechien|Repubblica Ceca
Ivory Coast|Côte d'Ivoire|Costa de Marfil|Elfenbeinküste|Costa d'Avorio|Costa do Marfim
Middle East|Moyen-Orient|Oriente Medio|Oriente Próximo|Nahost|Naher Osten|Mittlerer Osten|Medio Oriente|Oriente Médio|Midden-Oosten
Near East|Proche-Orient|Cercano Oriente|Vicino Oriente|Próximo Oriente
Far East|Extrême-Orient|Lejano Oriente|Ferner Osten|Estremo Oriente|Extremo Oriente
Maghreb|Magreb|Maghreb
Balkans|Balkans|Balcanes|Balkan|Balcani|Bálcãs
Sahel|Sahel
Gulf|Golfe|Golfo|Golf
Mediterranean|Méditerranée|Mediterráneo|Mittelmeer|Mediterraneo|Mediterrâneo|Middellandse Zee
Atlantic|Atlantique|Atlántico|Atlantik|Atlantico|Atlântico|Atlantische
Pacific|Pacifique|Pacífico|Pazifik|Pacifico|Stille Oceaan
Channel|English Channel|Manche|Canal de la Mancha|Ärmelkanal|Manica|Canal da Mancha|Het Kanaal
Alps|Alpes|Alpen|Alpi
Pyrenees|Pyrénées|Pirineos|Pyrenäen|Pirenei|Pirenéus
Rhine|Rhin|Rin|Rhein|Reno|Reno|Rijn
Danube|Danubio|Donau|Danubio|Danúbio|Donau
Thames|Tamise|Támesis|Themse|Tamigi|Tâmisa
Seine|Sena|Senna
London|Londres|Londra|Londen
Brussels|Bruxelles|Bruselas|Brüssel|Bruxelas|Brussel
Beijing|Peking|Pékin|Pekín|Pechino|Pequim
Moscow|Moscou|Moscú|Moskau|Mosca|Moscovo|Moskou
Warsaw|Varsovie|Varsovia|Warschau|Varsavia|Varsóvia
Vienna|Vienne|Viena|Wien|Wenen
Munich|Múnich|München|Monaco di Baviera|Munique
Cologne|Köln|Colonia|Colônia|Keulen
Geneva|Genève|Ginebra|Genf|Ginevra|Genebra|Genève
Lisbon|Lisbonne|Lisboa|Lissabon|Lisbona
Rome|Roma|Rom
Venice|Venise|Venecia|Venedig|Venezia|Veneza|Venetië
Florence|Firenze|Florencia|Florenz|Florença
Naples|Napoli|Nápoles|Neapel|Napels
Milan|Milano|Milán|Mailand|Milão
Turin|Torino|Turín|Turim
Athens|Athènes|Atenas|Athen|Atene|Athene
Prague|Praga|Prag|Praag
Copenhagen|Copenhague|Kopenhagen|Copenaghen|Copenhaga
Stockholm|Estocolmo|Stoccolma
The Hague|La Haye|La Haya|Den Haag|L'Aia|Haia
Antwerp|Anvers|Amberes|Antwerpen|Anversa|Antuérpia
Seville|Séville|Sevilla|Siviglia|Sevilha
Mexico City|Mexico|Ciudad de México|Mexiko-Stadt|Città del Messico|Cidade do México
New York|Nueva York|Nova Iorque|New York
New Orleans|Nouvelle-Orléans|Nueva Orleans|Nova Orleães
Cairo|Caire|El Cairo|Kairo|Il Cairo|Cairo
Algiers|Alger|Argel|Algier|Algeri
Tunis|Túnez|Tunisi
Jerusalem|Jérusalem|Jerusalén|Gerusalemme|Jerusalém
Mecca|Mecque|La Meca|Mekka|La Mecca|Meca
Beirut|Beyrouth|Beirut|Beirute
Damascus|Damas|Damasco|Damaskus
Baghdad|Bagdad|Bagdá
Tehran|Téhéran|Teherán|Teheran|Teerã
Istanbul|Estambul|Istambul|Istanboel
Edinburgh|Édimbourg|Edimbourg|Edimburgo
Dublin|Dublín|Dublino
Brittany|Bretagne|Bretaña|Bretagna|Bretanha
Normandy|Normandie|Normandía|Normandia
Corsica|Corse|Córcega|Korsika|Córsega
Sicily|Sicile|Sicilia|Sizilien|Sicília
Sardinia|Sardaigne|Cerdeña|Sardinien|Sardegna|Sardenha
Bavaria|Bavière|Baviera|Bayern|Beieren
Catalonia|Catalogne|Cataluña|Katalonien|Catalogna|Catalunha|Catalonië
Andalusia|Andalousie|Andalucía|Andalusien|Andalusia|Andaluzia
Basque Country|Pays basque|País Vasco|Baskenland|Paesi Baschi
Burgundy|Bourgogne|Borgoña|Burgund|Borgogna|Borgonha
Flanders|Flandre|Flandres|Flandes|Flandern|Fiandre|Vlaanderen
Wallonia|Wallonie|Valonia|Wallonien|Vallonia|Valónia|Wallonië
Alsace|Elsass|Alsacia|Alsazia|Alsácia|Elzas
Lorraine|Lothringen|Lorena|Lotharingen
Quebec|Québec
Siberia|Sibérie|Sibirien|Sibéria
California|Californie|Kalifornien|Califórnia
Florida|Floride|Flórida
Louisiana|Louisiane|Luisiana
Pennsylvania|Pennsylvanie|Pensilvania|Pensilvânia
Virginia|Virginie|Virgínia
Carolina|Caroline
Hawaii|Hawaï|Hawái|Havaí
Texas|Tejas
Tyrol|Tirol|Tirolo
Crimea|Crimée|Krim|Crimeia
Gaza|Gaza
West Bank|Cisjordanie|Cisjordania|Westjordanland|Cisgiordania|Cisjordânia
Kurdistan|Kurdistán|Curdistão
Palestine|Palestina|Palästina
United Nations|UN|U.N.|ONU|Nations unies|Nations Unies|Naciones Unidas|Vereinte Nationen|Nazioni Unite|Nações Unidas|Verenigde Naties|VN
European Union|EU|E.U.|UE|Union européenne|Unión Europea|Europäische Union|Unione europea|União Europeia|Europese Unie
European Commission|Commission européenne|Comisión Europea|Europäische Kommission|Commissione europea|Comissão Europeia|Europese Commissie|Commission
European Parliament|Parlement européen|Parlamento Europeo|Europäisches Parlament|Parlamento europeo|Parlamento Europeu|Europees Parlement
Council|Conseil|Consejo|Rat|Consiglio|Conselho|Raad
Security Council|Conseil de sécurité|Consejo de Seguridad|Sicherheitsrat|Consiglio di sicurezza|Conselho de Segurança|Veiligheidsraad
NATO|OTAN|Nato|NAVO
IMF|FMI|IWF
WHO|OMS|WHO|OMS
World Bank|Banque mondiale|Banco Mundial|Weltbank|Banca mondiale|Wereldbank
Red Cross|Croix-Rouge|Cruz Roja|Rotes Kreuz|Croce Rossa|Cruz Vermelha|Rode Kruis
White House|Maison Blanche|Maison-Blanche|Casa Blanca|Weißes Haus|Casa Bianca|Casa Branca|Witte Huis
Pentagon|Pentagone|Pentágono|Pentagono
Kremlin|Kreml|Cremlino|Kremlin
Elysee|Élysée|Elíseo|Eliseo
Vatican|Vaticano|Vatikan
Congress|Congrès|Congreso|Kongress|Congresso|Congres
Senate|Sénat|Senado|Senat|Senato|Senaat
National Assembly|Assemblée nationale|Asamblea Nacional|Nationalversammlung|Assemblea nazionale|Assembleia Nacional
State|Etat|État|Estado|Staat|Stato
Government|Gouvernement|Gobierno|Regierung|Governo|Regering
Foreign Affairs|Foreign|Affaires étrangères|Affaires|Asuntos Exteriores|Exteriores|Auswärtigen|Esteri|Negócios Estrangeiros|Buitenlandse Zaken
Interior|Intérieur|Interior|Innern|Interno|Binnenlandse Zaken
Defence|Defense|Défense|Defensa|Verteidigung|Difesa|Defesa|Defensie
Justice|Justicia|Justiz|Giustizia|Justiça|Justitie
Health|Santé|Sanidad|Salud|Gesundheit|Salute|Saúde|Volksgezondheid
Economy|Économie|Economie|Economía|Wirtschaft|Economia
Finance|Finances|Hacienda|Finanzen|Finanze|Finanças|Financiën
Education|Éducation|Educación|Bildung|Istruzione|Educação|Onderwijs
Prime Minister|Premier ministre|Premier|Primer Ministro|Premierminister|Primo ministro|Primeiro-Ministro|Premier
President|Président|Presidente|Präsident|President
Labour|Labour Party|travailliste|Travailliste|travaillistes|laborista|Laboristas|Labour-Partei|laburista|trabalhista|PvdA
Conservative|Conservatives|Tory|Tories|conservateur|conservateurs|Conservateur|Conservateurs|conservador|conservadores|konservativ|conservatore|conservatori
Democrat|Democrats|Democratic|démocrate|démocrates|Démocrate|Démocrates|demócrata|demócratas|Demokrat|Demokraten|democratico|democratici|democrata|democratas
Republican|Republicans|républicain|républicains|Républicain|Républicains|republicano|republicanos|Republikaner|repubblicano|repubblicani
Socialist|Socialists|socialiste|socialistes|Socialiste|Socialistes|socialista|socialistas|Sozialist|Sozialisten|socialisti
Green|Greens|Verts|verts|écologiste|écologistes|Verdes|Grünen|Verdi
North|Nord|Norte|Norden|Noord
South|Sud|Sur|Süden|Zuid|Sul
East|Est|Este|Osten|Oost
West|Ouest|Oeste|Westen|Ovest
Christmas|Noël|Navidad|Weihnachten|Natale|Natal|Kerstmis|Kerst
Easter|Pâques|Pascua|Ostern|Pasqua|Páscoa|Pasen
New Year|Nouvel An|Año Nuevo|Neujahr|Capodanno|Ano Novo|Nieuwjaar
All Saints|Toussaint|Todos los Santos|Allerheiligen|Ognissanti|Todos os Santos
Church|Eglise|Église|Iglesia|Kirche|Chiesa|Igreja|Kerk
Stock Exchange|Bourse|Bolsa|Börse|Borsa|Beurs
Games|Jeux|Juegos|Spiele|Giochi|Jogos|Spelen
Olympics|Olympic|olympiques|Olympiques|Olímpicos|Olympische|Olimpiadi|Olimpíadas
World Cup|Coupe du monde|Mondial|Mundial|Weltmeisterschaft|WM|Mondiali|Copa do Mundo|Wereldkampioenschap
League|Ligue|Liga|Lega
Cup|Coupe|Copa|Pokal|Coppa|Taça|Beker
Court|Cour|Tribunal|Gericht|Corte|Hof
God|Dieu|Dios|Gott|Dio|Deus|God
Pope|Pape|Papa|Papst|Paus
Mr|Mister|M.|Monsieur|Señor|Sr.|Herr|Signor|Sig.|Senhor|Dhr.|Meneer
Mrs|Ms|Mme|Madame|Señora|Sra.|Frau|Signora|Sig.ra|Senhora|Mevrouw|Mevr.
Dr|Doctor|Docteur|Doktor|Dottore|Dott.|Doutor
"""  # noqa: E501 - data: one concept a line

# Nationality adjectives and nouns capitalised in one language and not in another (English capitalises
# "French", French writes "français"): one concept per line, first the country or language code.
_DEMONYMS = """
FR|French|Frenchman|Frenchmen|Frenchwoman|français|française|françaises|Français|Française|francés|francesa|französisch|Franzose|Franzosen|Französin|francese|francesi|francês|Frans|Fransen|Fransman
US|American|Americans|américain|américaine|américains|américaines|Américain|Américains|estadounidense|estadounidenses|norteamericano|norteamericana|amerikanisch|Amerikaner|americano|americana|americani|norte-americano|Amerikaans|Amerikanen
GB|British|Briton|Britons|britannique|britanniques|Britannique|Britanniques|británico|británica|britisch|Briten|britannico|britannica|britânico|Brits
GB|English|Englishman|anglais|anglaise|Anglais|inglés|inglesa|englisch|Engländer|inglese|inglês|Engels
DE|German|Germans|allemand|allemande|allemands|Allemand|Allemands|alemán|alemana|alemanes|deutsch|deutsche|Deutsche|tedesco|tedesca|tedeschi|alemão|alemã|Duits|Duitse|Duitsers
ES|Spanish|Spaniard|Spaniards|espagnol|espagnole|espagnols|Espagnol|Espagnols|español|española|españoles|spanisch|Spanier|spagnolo|spagnola|spagnoli|espanhol|espanhola|Spaans|Spanjaarden
IT|Italian|Italians|italien|italienne|italiens|Italien|Italiens|italiano|italiana|italianos|italienisch|Italiener|italiani|italiano|Italiaans|Italianen
PT|Portuguese|portugais|portugaise|Portugais|portugués|portuguesa|portugiesisch|Portugiese|portoghese|português|Portugees
MX|Mexican|Mexicans|mexicain|mexicaine|mexicains|Mexicain|Mexicains|mexicano|mexicana|mexicanos|mexikanisch|Mexikaner|messicano|messicana|messicani|Mexicaans|Mexicanen
CN|Chinese|chinois|chinoise|Chinois|chino|china|chinos|chinesisch|Chinese|cinese|cinesi|chinês|Chinees|Chinezen
RU|Russian|Russians|russe|russes|Russe|Russes|ruso|rusa|rusos|russisch|Russen|russo|russa|russi|Russisch
EU|European|Europeans|européen|européenne|européens|Européens|europeo|europea|europeos|europäisch|Europäer|europei|europeu|Europees|Europeanen
AR|Arab|Arabs|Arabic|arabe|arabes|Arabe|Arabes|árabe|árabes|arabisch|Araber|arabo|arabi|Arabisch|Arabieren
IL|Israeli|Israelis|israélien|israélienne|israéliens|Israélien|Israéliens|israelí|israelíes|israelisch|Israeli|israeliano|israeliani|israelense|Israëlisch|Israëliërs
PS|Palestinian|Palestinians|palestinien|palestinienne|palestiniens|Palestinien|Palestiniens|palestino|palestina|palestinos|palästinensisch|Palästinenser|palestinese|palestinesi|palestiniano|Palestijns|Palestijnen
UA|Ukrainian|Ukrainians|ukrainien|ukrainienne|ukrainiens|Ukrainien|Ukrainiens|ucraniano|ucraniana|ucranianos|ukrainisch|Ukrainer|ucraino|ucraina|ucraini|Oekraïens|Oekraïners
JP|Japanese|japonais|japonaise|Japonais|japonés|japonesa|japonisch|Japaner|giapponese|japonês|Japans|Japanners
BE|Belgian|Belgians|belge|belges|Belge|Belges|belga|belgas|belgisch|Belgier|belgi|Belgisch|Belgen
CH|Swiss|suisse|suisses|Suisse|Suisses|suizo|suiza|suizos|schweizerisch|Schweizer|svizzero|svizzera|svizzeri|suíço|Zwitsers
CA|Canadian|Canadians|canadien|canadienne|canadiens|Canadien|Canadiens|canadiense|kanadisch|Kanadier|canadese|canadense|Canadees
HN|Honduran|Hondurans|hondurien|hondurienne|honduriens|Hondurien|Honduriens|hondureño|hondureña|hondureños|honduranisch|Honduraner|honduregno|hondurenho
GT|Guatemalan|Guatemalans|guatémaltèque|guatémaltèques|Guatémaltèque|guatemalteco|guatemalteca|guatemaltekisch|Guatemalteke|guatemalteco
SV|Salvadoran|Salvadorans|Salvadorian|salvadorien|salvadorienne|salvadoriens|Salvadorien|salvadoreño|salvadoreña|salvadorianisch|salvadoregno|salvadorenho
"""


def _cldr_groups(langs: tuple[str, ...]) -> list[list[str]]:
    """Groups of CLDR names (one concept each) in ``langs``: territories, languages, months, days."""
    from babel import Locale, UnknownLocaleError

    territories: dict[str, set[str]] = {}
    languages: dict[str, set[str]] = {}
    months: dict[int, set[str]] = {}
    days: dict[int, set[str]] = {}
    for lang in langs:
        try:
            locale = Locale.parse(lang)
        except (UnknownLocaleError, ValueError):
            continue
        for code, name in locale.territories.items():
            if code not in ("ZZ", "QO", "EZ", "UN", "XA", "XB"):
                territories.setdefault(code, set()).add(name)
        for code in NAMED_LANGUAGES:
            if code in locale.languages:
                languages.setdefault(code, set()).add(locale.languages[code])
        for context in ("format", "stand-alone"):
            for i, name in locale.months[context]["wide"].items():
                months.setdefault(i, set()).add(name)
            for i, name in locale.days[context]["wide"].items():
                days.setdefault(i, set()).add(name)
    return [sorted(g) for table in (territories, languages, months, days) for g in table.values()]


def _languages(langs: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(BASE_LANGUAGES) | {b for lang in langs if (b := base_lang(lang))}))


def concepts(*langs: str | None) -> dict[str, frozenset[int]]:
    """Folded name -> ids of the concepts it names (a name may name several: "Georgia"), with the
    CLDR names of ``langs`` (a segment's source and target languages) and the base languages."""
    return _index(_languages(langs))[0]


def concept_names(*langs: str | None) -> dict[int, frozenset[str]]:
    """Concept id -> the folded names of that concept."""
    return _index(_languages(langs))[1]


def max_name_words(*langs: str | None) -> int:
    return _index(_languages(langs))[2]


@cache
def _index(langs: tuple[str, ...]) -> tuple[dict[str, frozenset[int]], dict[int, frozenset[str]], int]:
    groups = _cldr_groups(langs)
    for block in (_MANUAL, _DEMONYMS):
        for line in block.strip().splitlines():
            groups.append([n for n in line.split("|") if n])
    index: dict[str, set[int]] = {}
    for cid, names in enumerate(groups):
        for name in names:
            index.setdefault(fold(name), set()).add(cid)
    by_name = {name: frozenset(ids) for name, ids in index.items()}
    by_concept: dict[int, set[str]] = {}
    for name, ids in by_name.items():
        for cid in ids:
            by_concept.setdefault(cid, set()).add(name)
    longest = max(len(name.split()) for name in by_name)
    return by_name, {cid: frozenset(names) for cid, names in by_concept.items()}, longest
